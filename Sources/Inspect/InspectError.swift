/// What the inspector cannot do or refuses to do. Each case names the image as the user typed it and the
/// value at fault, so the CLI prints it as one line.
public enum InspectError: Error, Equatable, CustomStringConvertible {
    case layerOutOfRange(image: String, layer: Int, count: Int)
    /// No layer of the image has an entry at the path, and it does not resolve through symlinks either.
    case pathNeverPresent(image: String, path: String)
    case notInLayer(image: String, path: String, layer: Int)
    case isDirectory(image: String, path: String, layer: Int)
    case notARegularFile(image: String, path: String, layer: Int, type: String)
    /// A symlink or hard link whose target is not in the filesystem as of that layer.
    case danglingLink(image: String, path: String, target: String, layer: Int)
    case tooManyLinks(image: String, path: String, limit: Int)
    /// The file's tar names the path more than once and the bytes already written were an earlier copy.
    case duplicateEntry(image: String, path: String, layer: Int)
    /// `cat` to a terminal of bytes that are not plain text (binary, or control characters).
    case notText(image: String, path: String)
    case severalImages(image: String, names: [String])
    case unreadableLayer(image: String, layer: Int, reason: String)
    /// `layers --scan` could not read everything.
    case incompleteScan(image: String, reason: String)
    /// Writing the bytes out failed (a closed pipe, a full disk).
    case output(reason: String)
    /// A `layers --ci` threshold that is not a number of the right kind.
    case badThreshold(flag: String, value: String, reason: String)

    public var description: String {
        switch self {
        case .layerOutOfRange(let image, let layer, let count):
            let has = count == 0 ? "it has no layers" : "it has \(count) layer\(count == 1 ? "" : "s"), 0 to \(count - 1)"
            return "\(image): no layer \(layer): \(has)"
        case .pathNeverPresent(let image, let path):
            return "\(image): \(path) is in no layer of the image"
        case .notInLayer(let image, let path, let layer):
            return "\(image): \(path) is not in layer \(layer) (stowaway trace shows the layers that hold it)"
        case .isDirectory(let image, let path, let layer):
            return "\(image): \(path) is a directory in layer \(layer); cat prints files (stowaway files lists directories)"
        case .notARegularFile(let image, let path, let layer, let type):
            return "\(image): \(path) in layer \(layer) is not a regular file (\(type))"
        case .danglingLink(let image, let path, let target, let layer):
            return "\(image): \(path) links to \(target), which is not in the filesystem as of layer \(layer)"
        case .tooManyLinks(let image, let path, let limit):
            return "\(image): \(path): more than \(limit) links followed (a loop?)"
        case .duplicateEntry(let image, let path, let layer):
            return "\(image): \(path) appears more than once in layer \(layer)'s tar; what was written is an earlier copy, "
                + "not the last one an extractor keeps"
        case .notText(let image, let path):
            return "\(image): \(path) is not plain text (binary or control characters): not writing it to a terminal; "
                + "redirect standard output or pass --force"
        case .severalImages(let image, let names):
            let shown = names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", …" : "")
            return "\(image) holds \(names.count) images (\(shown)): name one (oci:DIR:TAG, or --platform os/arch)"
        case .unreadableLayer(let image, let layer, let reason):
            return "\(image): layer \(layer): \(reason)"
        case .incompleteScan(let image, let reason):
            return "\(image): the scan could not read everything: \(reason)"
        case .output(let reason):
            return "cannot write the output: \(reason)"
        case .badThreshold(let flag, let value, let reason):
            return "\(flag) \(value): \(reason)"
        }
    }
}
