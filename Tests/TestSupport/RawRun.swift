import Foundation

/// What a run wrote, byte for byte.
public struct RawResult {
    public var status: Int32
    public var stdout: Data
    public var stderr: String
}

extension Run {
    /// Runs `stowaway ARGS` with standard output going to a file, so binary output arrives unchanged.
    public static func raw(_ args: [String], environment: [String: String] = [:]) throws -> RawResult {
        let dir = try tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let outPath = dir + "/stdout"
        guard FileManager.default.createFile(atPath: outPath, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: stowaway)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try out.close()
        return RawResult(status: p.terminationStatus, stdout: try Data(contentsOf: URL(fileURLWithPath: outPath)),
                         stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs `stowaway ARGS` on a pseudo-terminal (standard output and error both), as a user at a terminal
    /// would; returns what the terminal received and the exit status.
    public static func onTerminal(_ args: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: Data) {
        let script = """
        import os, pty, sys
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(sys.argv[1], sys.argv[1:])
        out = b""
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            out += data
        _, status = os.waitpid(pid, 0)
        sys.stdout.buffer.write(out)
        sys.exit(os.waitstatus_to_exitcode(status))
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, stowaway] + args
        var full = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // Whether colour is off is the test's to say, not the environment it runs in.
        if environment["NO_COLOR"] == nil { full["NO_COLOR"] = nil }
        p.environment = full
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, data)
    }
}
