using System.Security.Cryptography;
using System.Text.Json;

namespace Portal.Web.Tenancy;

/// <summary>
/// The tenant settings in configuration seed the tenant's stored policy, which its admins then edit in the
/// console (docs/tenancy.md). At every start-up each section of the settings is compared with the value it
/// had when it last seeded the store (a hash kept in the tenant's document): a section whose setting changed
/// is applied when the console has not changed it since that seed, and reported (a warning naming the
/// setting; the console's value stays) when both changed. A setting is never silently ignored.
/// </summary>
public static class TenantSeedReconciliation
{
    private static readonly (string Name, Func<TenantPolicy, object?> Get, Action<TenantPolicy, TenantPolicy> Copy)[] Sections =
    [
        ("Tiers", p => p.Tiers, (from, to) => to.Tiers = TenantPolicy.Clone(from.Tiers)),
        ("GroupTiers", p => p.GroupTiers, (from, to) => to.GroupTiers = TenantPolicy.Clone(from.GroupTiers)),
        ("Verification", p => p.Verification, (from, to) => to.Verification = TenantPolicy.Clone(from.Verification)),
        ("ActionMethods", p => p.ActionMethods, (from, to) => to.ActionMethods = TenantPolicy.Clone(from.ActionMethods)),
        ("PrivilegedGroups", p => p.PrivilegedGroups, (from, to) => to.PrivilegedGroups = [.. from.PrivilegedGroups]),
        ("IpAllowList", p => p.IpAllowList, (from, to) => to.IpAllowList = [.. from.IpAllowList]),
        ("AlertWebhook", p => p.AlertWebhook, (from, to) => to.AlertWebhook = TenantPolicy.Clone(from.AlertWebhook)),
        ("AuditRetentionDays", p => p.AuditRetentionDays, (from, to) => to.AuditRetentionDays = from.AuditRetentionDays),
        ("CallScripts", p => p.CallScripts, (from, to) => to.CallScripts = TenantPolicy.Clone(from.CallScripts)),
        ("Recovery", p => p.Recovery, (from, to) => to.Recovery = TenantPolicy.Clone(from.Recovery)),
        ("ExecutiveTargets", p => p.ExecutiveTargets, (from, to) => to.ExecutiveTargets = TenantPolicy.Clone(from.ExecutiveTargets)),
    ];

    /// <summary>What start-up did with one section of one tenant's settings.</summary>
    public sealed record Outcome(string TenantId, string Section, bool Applied);

    /// <summary>The seed: the policy from configuration, with the hash of each section recorded.</summary>
    public static TenantPolicy Seed(TenantSettings configured)
    {
        var seed = TenantPolicy.From(configured);
        seed.SeedHashes = Hashes(seed);
        return seed;
    }

    /// <summary>
    /// Lays the changed settings over the stored policy where the console left them alone. Returns the new
    /// policy (null when nothing is to be written) and what was applied or kept.
    /// </summary>
    public static (TenantPolicy? Updated, List<Outcome> Outcomes) Reconcile(string tenantId, TenantPolicy stored, TenantPolicy seed)
    {
        var updated = stored.Copy();
        var outcomes = new List<Outcome>();
        var changed = false;
        var storedHashes = Hashes(stored);
        foreach (var (name, get, copy) in Sections)
        {
            var configured = seed.SeedHashes[name];
            var current = storedHashes[name];
            if (get(stored) is null)
            {
                // A section the document does not hold (written before the section was editable): the console never changed
                // it, and the tenant was served the configured value, which the document now keeps. Nothing to report.
                copy(seed, updated);
                updated.SeedHashes[name] = configured;
                changed = true;
                continue;
            }

            if (stored.SeedHashes.TryGetValue(name, out var previousSeed) && previousSeed == configured)
            {
                continue;
            }

            if (current == configured)
            {
                // Already the same (set in both places, or a document from before seeds were recorded): remember it.
                updated.SeedHashes[name] = configured;
                changed = true;
            }
            else if (previousSeed is not null && current == previousSeed)
            {
                // The setting changed and the console never touched this section since the last seed: apply it.
                copy(seed, updated);
                updated.SeedHashes[name] = configured;
                outcomes.Add(new Outcome(tenantId, name, Applied: true));
                changed = true;
            }
            else
            {
                // Both changed (or the seed is unknown): the console's value stays, and this is said at every start.
                outcomes.Add(new Outcome(tenantId, name, Applied: false));
            }
        }

        if (!changed)
        {
            return (null, outcomes);
        }

        if (outcomes.Any(o => o.Applied))
        {
            updated.Revision = stored.Revision + 1;
        }

        return (updated, outcomes);
    }

    private static Dictionary<string, string> Hashes(TenantPolicy policy) =>
        Sections.ToDictionary(s => s.Name, s => Convert.ToHexString(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(s.Get(policy))))[..16], StringComparer.Ordinal);
}
