// OCI's API is written in the shared basics (digests, byte sources): whoever imports OCI gets them too.
@_exported import Core
