using System.Net;
using Microsoft.Extensions.Options;

namespace Portal.Web.Infrastructure;

/// <summary>
/// The client's address as the portal's own trusted proxies saw it (docs/security-requirements.md A4). Each trusted proxy
/// appends the address it received the request from to <c>X-Forwarded-For</c>, so the entry
/// <see cref="WebOptions.TrustedProxyHops"/> from the right is the one the outermost trusted proxy wrote.
/// Whatever a client writes into the header itself stands to the left of it and is never read: a spoofed
/// entry cannot move the address that is checked.
/// </summary>
public sealed class ClientAddressResolver(IOptions<WebOptions> options)
{
    private const int MaxEntries = 64;

    public int TrustedProxyHops => options.Value.TrustedProxyHops;

    /// <summary>The client address, or null when it cannot be known (then an allow-list refuses the request).</summary>
    public IPAddress? Resolve(HttpContext context) => Resolve(context.Connection.RemoteIpAddress, context.Request.Headers["X-Forwarded-For"], TrustedProxyHops);

    public static IPAddress? Resolve(IPAddress? socketAddress, IEnumerable<string?> forwardedFor, int trustedProxyHops)
    {
        if (trustedProxyHops <= 0)
        {
            return socketAddress is null ? null : IpAllowListRules.Normalise(socketAddress);
        }

        var entries = forwardedFor
            .SelectMany(h => (h ?? "").Split(',', StringSplitOptions.TrimEntries))
            .Take(MaxEntries + 1)
            .ToList();
        if (entries.Count == 0 || entries.Count > MaxEntries || entries.Count < trustedProxyHops)
        {
            // Fewer entries than trusted proxies: the request did not come through them all, so no entry is
            // known to be written by a trusted proxy. A header this long is not from our proxies either.
            return null;
        }

        return TryParse(entries[^trustedProxyHops], out var address) ? IpAllowListRules.Normalise(address) : null;
    }

    private static bool TryParse(string entry, out IPAddress address)
    {
        address = IPAddress.None;
        if (string.IsNullOrEmpty(entry) || entry.Length > 64)
        {
            return false;
        }

        // Proxies may write "1.2.3.4:port" or "[2001:db8::1]:port"; a bare IPv6 address has colons of its own.
        if (IPEndPoint.TryParse(entry, out var endpoint) && (entry.Contains('.', StringComparison.Ordinal) || entry.StartsWith('[')))
        {
            address = endpoint.Address;
            return true;
        }

        return IPAddress.TryParse(entry, out address!);
    }
}
