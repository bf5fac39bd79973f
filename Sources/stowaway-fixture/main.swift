import Foundation
import ImageBuilder

// Builds a container image from a JSON ImageSpec: stowaway-fixture SPEC.json OUTPUT
let args = CommandLine.arguments
guard args.count == 3 else {
    FileHandle.standardError.write(Data("usage: stowaway-fixture SPEC.json OUTPUT\n".utf8))
    exit(64)
}
do {
    let spec = try JSONDecoder().decode(ImageSpec.self, from: Data(contentsOf: URL(fileURLWithPath: args[1])))
    let digest = try ImageBuilder.build(spec, at: args[2])
    print("\(args[2]) config \(digest)")
} catch {
    FileHandle.standardError.write(Data("stowaway-fixture: \(args[1]): \(error)\n".utf8))
    exit(2)
}
