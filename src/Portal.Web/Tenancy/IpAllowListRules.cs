using System.Net;

namespace Portal.Web.Tenancy;

/// <summary>CIDR parsing and matching for the per-tenant allow-list (docs/security-requirements.md A4).</summary>
public static class IpAllowListRules
{
    /// <summary>Strict CIDR: the address must be the network's own (no host bits), so what is saved is what is meant.</summary>
    public static bool TryParseNetwork(string? text, out IPNetwork network)
    {
        network = default;
        var value = text?.Trim();
        var slash = value?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (value is null || value.Length > 64 || slash < 1
            || !IPAddress.TryParse(value.AsSpan(0, slash), out var address) || !IPNetwork.TryParse(value, out network))
        {
            return false;
        }

        // "203.0.113.5/24" is refused rather than read as 203.0.113.0/24: the admin must write what they mean.
        return network.BaseAddress.Equals(address);
    }

    /// <summary>An empty list allows every address (documented in docs/tenancy.md); otherwise the address must fall in one network.</summary>
    public static bool Allows(IReadOnlyList<string> allowList, IPAddress? address)
    {
        if (allowList.Count == 0)
        {
            return true;
        }

        if (address is null)
        {
            // An unknown client address cannot be shown to be inside the list: fail closed.
            return false;
        }

        var normalised = Normalise(address);
        foreach (var entry in allowList)
        {
            if (TryParseNetwork(entry, out var network) && network.Contains(normalised))
            {
                return true;
            }
        }

        return false;
    }

    public static IPAddress Normalise(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
