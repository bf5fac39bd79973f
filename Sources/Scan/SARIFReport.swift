import Foundation
import Secrets

/// SARIF 2.1.0: one result per finding, fingerprinted by the secret's SHA-256.
public enum SARIFReport {
    public static func render(_ report: Report, rules: [Rule]) throws -> Data {
        let used = Set(report.images.flatMap { $0.findings.map(\.ruleID) })
        let ruleObjects: [[String: Any]] = rules.filter { used.contains($0.id) }.map { r in
            ["id": r.id, "shortDescription": ["text": r.description],
             "defaultConfiguration": ["level": level(r.severity)],
             "properties": ["security-severity": securitySeverity(r.severity), "tags": ["security", "secret"]]]
        }
        var results: [[String: Any]] = []
        for image in report.images {
            for f in image.findings {
                var region: [String: Any] = [:]
                if let line = f.line { region["startLine"] = line }
                var physical: [String: Any] = ["artifactLocation": ["uri": "\(image.reference)!\(f.location)"]]
                if !region.isEmpty { physical["region"] = region }
                var message = "\(f.description) (\(f.redacted))"
                if f.status == .deleted || f.status == .overwritten {
                    message += ", \(f.status!.rawValue) in layer \(f.removedInLayer ?? -1) but still in layer \(f.layerIndex ?? -1)'s blob"
                }
                var properties: [String: Any] = ["severity": f.severity.rawValue, "source": f.source.rawValue]
                if let c = f.confidence { properties["confidence"] = c.rawValue }
                if let d = f.details { properties["details"] = try JSONSerialization.jsonObject(with: JSONEncoder().encode(d)) }
                results.append([
                    "ruleId": f.ruleID,
                    "level": level(f.severity),
                    "message": ["text": message],
                    "locations": [["physicalLocation": physical]],
                    "partialFingerprints": ["secretSHA256/v1": f.secretSHA256],
                    "properties": properties,
                ])
            }
        }
        var invocation: [String: Any] = ["executionSuccessful": !report.isIncomplete]
        let notes = report.images.flatMap { $0.errors.map { ["message": ["text": $0.message], "level": "error"] } }
            + report.images.flatMap { $0.warnings.map { ["message": ["text": "\($0.path ?? ""): \($0.message)"], "level": "warning"] } }
        if !notes.isEmpty { invocation["toolExecutionNotifications"] = notes }
        let sarif: [String: Any] = [
            "version": "2.1.0",
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "runs": [[
                "tool": ["driver": ["name": "stowaway", "version": Stowaway.version,
                                    "informationUri": "https://github.com/stowaway/stowaway", "rules": ruleObjects]],
                "invocations": [invocation],
                "results": results,
            ]],
        ]
        return try JSONSerialization.data(withJSONObject: sarif, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    static func level(_ s: Severity) -> String {
        switch s {
        case .critical, .high: return "error"
        case .medium: return "warning"
        case .low: return "note"
        }
    }

    static func securitySeverity(_ s: Severity) -> String {
        switch s {
        case .critical: return "9.5"
        case .high: return "8.0"
        case .medium: return "5.5"
        case .low: return "3.0"
        }
    }
}
