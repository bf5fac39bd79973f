// The provider catalogue: credential formats as data, one row each (see `CatalogEntry`). Written from the
// providers' public documentation of their key formats; each row's true and false examples are generated
// from its shape in RuleCatalogTests.

extension BuiltinRules {
    /// Every catalogue row, in rule order.
    public static let catalog: [CatalogEntry] =
        catalogMigrated + catalogPrefixed + catalogComms + catalogMonitoringDev + catalogCloudData + catalogWork + catalogMoney + catalogMisc
        + catalogAssigned + catalogLongTail + catalogTailB + catalogTailC + catalogTokens + catalogMechanisms
}
