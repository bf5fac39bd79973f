#!/usr/bin/env python3
"""Builds hostile images for stowaway: craft.py WORKDIR prints one "NAME<TAB>INPUT<TAB>EXPECTED" line per attack.

Every input is made from scratch with the standard library (tar headers written byte by byte, real
sha256 digests), with a fresh fake secret (random, in a real token format; never a live credential).
EXPECTED is the exit code a sound scanner gives: 2 (refused with one line) or 1 (the hidden secret found).

    craft.py WORKDIR --seeds DIR    also copies the small outer tars and JSON documents into DIR/tar and
                                    DIR/json, as seeds for the fuzz targets (make fuzz).
"""
import hashlib, json, os, secrets, shutil, string, sys

ALNUM = string.ascii_letters + string.digits


def fake_github_token():
    return "ghp_" + "".join(secrets.choice(ALNUM) for _ in range(36))


# --- tar, byte by byte -------------------------------------------------------------------------

def octal(value, width):
    return ("%0*o" % (width - 1, value)).encode() + b"\0"


def header(name, size=0, typeflag=b"0", linkname="", size_field=None, mode=0o644):
    """A ustar header; size_field replaces the 12-byte size field verbatim (base-256, garbage)."""
    h = bytearray(512)
    h[0:len(name)] = name.encode()[:100]
    h[100:108] = octal(mode, 8)
    h[108:116] = octal(0, 8)
    h[116:124] = octal(0, 8)
    h[124:136] = size_field if size_field is not None else octal(size, 12)
    h[136:148] = octal(1_700_000_000, 12)
    h[148:156] = b" " * 8
    h[156:157] = typeflag
    h[157:157 + len(linkname)] = linkname.encode()
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[148:156] = ("%06o\0 " % sum(h)).encode()
    return bytes(h)


def pad(data):
    return data + b"\0" * (-len(data) % 512)


def pax_records(records):
    out = b""
    for key, value in records:
        body = (" %s=%s\n" % (key, value)).encode()
        n = len(body) + 1
        while len(str(n)) + len(body) != n:
            n = len(str(n)) + len(body)
        out += str(n).encode() + body
    return out


def pax(records, name="PaxHeader"):
    body = pax_records(records)
    return header(name, len(body), b"x") + pad(body)


def file_entry(name, data):
    return header(name, len(data)) + pad(data)


EOA = b"\0" * 1024


# --- images --------------------------------------------------------------------------------------

def sha256(data):
    return hashlib.sha256(data).hexdigest()


def config_json(diff_ids, env=None):
    return json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": env or ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + d for d in diff_ids]},
        "history": [{"created_by": "hostile layer %d" % i} for i in range(len(diff_ids))],
    }, sort_keys=True).encode()


def oci_layout_files(layers):
    """The files of an OCI layout holding uncompressed `layers` (bytes): {relative path: bytes}."""
    files = {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}'}
    digests = [sha256(l) for l in layers]
    config = config_json(digests)
    for l, d in zip(layers, digests):
        files["blobs/sha256/" + d] = l
    files["blobs/sha256/" + sha256(config)] = config
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + sha256(config),
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + d, "size": len(l)}
                   for l, d in zip(layers, digests)],
    }, sort_keys=True).encode()
    files["blobs/sha256/" + sha256(manifest)] = manifest
    files["index.json"] = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + sha256(manifest),
                       "size": len(manifest), "platform": {"os": "linux", "architecture": "amd64"}}],
    }, sort_keys=True).encode()
    return files


def write_tree(root, files):
    if os.path.lexists(root):
        shutil.rmtree(root) if os.path.isdir(root) and not os.path.islink(root) else os.remove(root)
    for rel, data in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


# --- the attacks ---------------------------------------------------------------------------------

def attacks(work):
    os.makedirs(work, exist_ok=True)
    secret = fake_github_token()
    out = []

    # 1a. A docker save directory whose manifest.json names a layer outside the image (a host tar).
    host_tar = os.path.join(work, "host-secret.tar")
    write(host_tar, file_entry("token.txt", ("GITHUB_TOKEN=%s\n" % secret).encode()) + EOA)
    host_digest = sha256(open(host_tar, "rb").read())
    d = os.path.join(work, "docker-dir-layer-escape")
    config = config_json([host_digest])
    write_tree(d, {"config.json": config,
                   "manifest.json": json.dumps([{"Config": "config.json", "RepoTags": ["x:1"],
                                                 "Layers": ["../host-secret.tar"]}]).encode()})
    out.append(("docker-dir-layer-escape", d, 2))

    # 1b. The same with the config outside the image.
    host_config = os.path.join(work, "host-config.json")
    write(host_config, config_json([], env=["GITHUB_TOKEN=" + secret]))
    d = os.path.join(work, "docker-dir-config-escape")
    write_tree(d, {"manifest.json": json.dumps([{"Config": "../host-config.json", "RepoTags": ["x:1"],
                                                 "Layers": []}]).encode()})
    out.append(("docker-dir-config-escape", d, 2))

    # 1c. An OCI layout whose blobs/sha256 is a symbolic link to a directory elsewhere on the host.
    host_blobs = os.path.join(work, "host-layout")
    files = oci_layout_files([file_entry("token.txt", ("GITHUB_TOKEN=%s\n" % secret).encode()) + EOA])
    write_tree(host_blobs, files)
    d = os.path.join(work, "oci-blobs-symlink")
    write_tree(d, {k: v for k, v in files.items() if not k.startswith("blobs/")})
    os.makedirs(os.path.join(d, "blobs"))
    os.symlink(os.path.abspath(os.path.join(host_blobs, "blobs/sha256")), os.path.join(d, "blobs/sha256"))
    out.append(("oci-blobs-symlink", d, 2))

    # 2. Outer-tar headers. A negative PAX size on the next (global) header sends the offset back onto it.
    t = os.path.join(work, "tar-pax-negative-size.tar")
    write(t, file_entry("oci-layout", b'{"imageLayoutVersion":"1.0.0"}') + pax([("size", "-1024")])
          + header("pax_global_header", 0, b"g") + b"\0" * 4096 + EOA)
    out.append(("tar-pax-negative-size", t, 2))

    # Int64.max as a base-256 size field, and as a PAX size.
    t = os.path.join(work, "tar-base256-int64max.tar")
    write(t, header("index.json", size_field=b"\x80\0\0\0" + (2**63 - 1).to_bytes(8, "big")) + b"{}" + b"\0" * 510 + EOA)
    out.append(("tar-base256-int64max", t, 2))
    t = os.path.join(work, "tar-pax-int64max.tar")
    write(t, pax([("size", str(2**63 - 1))]) + header("index.json", 2) + pad(b"{}") + EOA)
    out.append(("tar-pax-int64max", t, 2))

    # PAX size=-1 on the documents read whole.
    for name in ["index.json", "manifest.json"]:
        t = os.path.join(work, "tar-pax-minus1-%s.tar" % name.split(".")[0])
        write(t, file_entry("oci-layout", b'{"imageLayoutVersion":"1.0.0"}') + pax([("size", "-1")]) + header(name, 0) + EOA)
        out.append(("tar-pax-minus1-%s" % name.split(".")[0], t, 2))

    # 3. A sparse file claiming 1 TiB (pax GNU.sparse 0.1), its few KB of data holding the secret at the end.
    real = 1 << 40
    chunk = pad(("GITHUB_TOKEN=%s\n" % secret).encode())
    layer = (pax([("GNU.sparse.size", str(real)), ("GNU.sparse.numblocks", "2"),
                  ("GNU.sparse.map", "0,%d,%d,%d" % (len(chunk), real - len(chunk), len(chunk)))])
             + header("huge.img", 2 * len(chunk)) + chunk + chunk + EOA)
    d = os.path.join(work, "layer-sparse-1tib")
    write_tree(d, oci_layout_files([layer]))
    out.append(("layer-sparse-1tib", d, 1))

    # 4. Data no file holds: after the end-of-archive marker, in a whiteout's body, in a hard link's body.
    d = os.path.join(work, "layer-after-eoa")
    write_tree(d, oci_layout_files([file_entry("hello.txt", b"hello\n") + EOA + ("GITHUB_TOKEN=%s\n" % secret).encode()]))
    out.append(("layer-after-eoa", d, 1))
    d = os.path.join(work, "layer-whiteout-body")
    write_tree(d, oci_layout_files([file_entry(".wh.secret", ("GITHUB_TOKEN=%s\n" % secret).encode()) + EOA]))
    out.append(("layer-whiteout-body", d, 1))
    d = os.path.join(work, "layer-hardlink-body")
    body = ("GITHUB_TOKEN=%s\n" % secret).encode()
    write_tree(d, oci_layout_files([file_entry("a.txt", b"a\n") + pax([("path", "b.txt")])
                                    + header("b.txt", len(body), b"1", linkname="a.txt") + pad(body) + EOA]))
    out.append(("layer-hardlink-body", d, 1))

    # An index tree naming one child a thousand times at every level: 10^12 manifests to walk.
    files = oci_layout_files([file_entry("a.txt", b"a\n") + EOA])
    index = json.loads(files["index.json"])
    child = index["manifests"][0]
    del child["platform"]
    for _ in range(3):
        doc = json.dumps({"schemaVersion": 2, "manifests": [child] * 1000}).encode()
        files["blobs/sha256/" + sha256(doc)] = doc
        child = {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + sha256(doc), "size": len(doc)}
    files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [child] * 1000}).encode()
    d = os.path.join(work, "oci-index-fanout")
    write_tree(d, files)
    out.append(("oci-index-fanout", d, 2))

    # A well-formed OCI tar with a top-level symbolic link named by one character (a Foundation trap).
    files = oci_layout_files([file_entry("a.txt", b"a\n") + EOA])
    t = os.path.join(work, "tar-one-char-symlink.tar")
    write(t, header("l", 0, b"2", linkname="index.json") + b"".join(file_entry(k, v) for k, v in files.items()) + EOA)
    out.append(("tar-one-char-symlink", t, 0))
    return out


def seeds(work, dest, attack_list):
    """Small outer tars and JSON documents for the fuzz targets."""
    for sub in ["tar", "json"]:
        os.makedirs(os.path.join(dest, sub), exist_ok=True)
    for name, path, _ in attack_list:
        if os.path.isfile(path):
            shutil.copy(path, os.path.join(dest, "tar", name))
        elif os.path.isdir(path):
            for rel in ["index.json", "manifest.json", "config.json"]:
                p = os.path.join(path, rel)
                if os.path.isfile(p) and not os.path.islink(p):
                    shutil.copy(p, os.path.join(dest, "json", name + "-" + rel))
            blobs = os.path.join(path, "blobs/sha256")
            if os.path.isdir(blobs) and not os.path.islink(blobs):
                for b in os.listdir(blobs):
                    data = open(os.path.join(blobs, b), "rb").read()
                    if data.startswith(b"{"):
                        write(os.path.join(dest, "json", name + "-" + b[:12]), data)
                # The whole layout as an OCI tar: an input the loader target reads end to end.
                entries = b""
                for root, _, names in sorted(os.walk(path)):
                    for n in sorted(names):
                        full = os.path.join(root, n)
                        entries += file_entry(os.path.relpath(full, path), open(full, "rb").read())
                write(os.path.join(dest, "tar", name + ".tar"), entries + EOA)


def zero_digest_seeds(dest):
    """Tars whose every blob is named sha256:000…0: the fuzz build's stand-in hash gives every blob that
    digest, so these get past the digest checks to the manifest, config and layer-list code."""
    zero = "sha256:" + "0" * 64
    size = 0
    while True:
        # One document that is at once the manifest, the config and the (unread) layer blob.
        doc = json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": zero, "size": size},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": zero, "size": size}],
            "architecture": "amd64", "os": "linux", "config_": {"Env": ["A=b"]},
            "rootfs": {"type": "layers", "diff_ids": [zero]}, "history": [{"created_by": "x"}],
        }, sort_keys=True).encode()
        if len(doc) == size:
            break
        size = len(doc)
    index = json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": zero, "size": size,
         "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
    blob = "blobs/sha256/" + "0" * 64
    layout = file_entry("oci-layout", b'{"imageLayoutVersion":"1.0.0"}') + file_entry("index.json", index)
    write(os.path.join(dest, "tar", "zero-digest-oci.tar"), layout + file_entry(blob, doc) + EOA)
    manifest = json.dumps([{"Config": blob, "RepoTags": ["seed:1"], "Layers": [blob]}]).encode()
    write(os.path.join(dest, "tar", "zero-digest-docker.tar"), file_entry("manifest.json", manifest) + file_entry(blob, doc) + EOA)


def main():
    if len(sys.argv) not in (2, 4) or (len(sys.argv) == 4 and sys.argv[2] != "--seeds"):
        sys.stderr.write("usage: craft.py WORKDIR [--seeds DIR]\n")
        sys.exit(64)
    work = os.path.abspath(sys.argv[1])
    found = attacks(work)
    if len(sys.argv) == 4:
        seeds(work, sys.argv[3], found)
        zero_digest_seeds(sys.argv[3])
    for name, path, expected in found:
        print("%s\t%s\t%d" % (name, path, expected))


if __name__ == "__main__":
    main()
