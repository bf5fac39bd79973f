// Foundation-free: dates are formatted from Unix seconds by arithmetic, with no formatter state to share.

/// Unix seconds as ISO 8601 UTC text, clamped to 1970...9999 (hostile tokens carry any 64-bit value).
enum UnixTime {
    /// 9999-12-31T23:59:59Z.
    static let latest: Int64 = 253_402_300_799

    /// `2030-01-02T03:04:05Z`.
    static func iso8601(_ seconds: Int64) -> String {
        let (y, m, d, rem) = civil(seconds)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rem / 3600, 2)):\(pad(rem / 60 % 60, 2)):\(pad(rem % 60, 2))Z"
    }

    /// `2030-01-02`, for phrases.
    static func day(_ seconds: Int64) -> String {
        let (y, m, d, _) = civil(seconds)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// Year, month, day and seconds into the day, by the proleptic Gregorian calendar counted in 400-year eras
    /// from 0000-03-01 (so the leap day is the last day of a year).
    private static func civil(_ seconds: Int64) -> (Int64, Int64, Int64, Int64) {
        let s = min(max(seconds, 0), latest)
        let days = s / 86_400
        let z = days + 719_468  // days from 0000-03-01 to 1970-01-01
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // 0 = March
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day, s % 86_400)
    }

    private static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
