using System.Net;
using System.Net.Sockets;

namespace Portal.Web.Platform;

/// <summary>A webhook destination that resolves to an address the portal must never call (loopback, private, metadata...).</summary>
public sealed class RefusedDestinationException(string message) : Exception(message);

/// <summary>
/// Where a tenant's alert webhook may point (docs/security-requirements.md W1). A tenant admin types the URL, so
/// without this guard the portal would POST into its own network on their behalf (SSRF). The check runs twice:
/// when the URL is saved (a clear message) and at every connection, on the addresses the name resolves to at
/// that moment (<see cref="ConnectAsync"/>), so a name that later resolves elsewhere (DNS rebinding) is refused too.
/// </summary>
public static class WebhookDestinations
{
    private static readonly IPNetwork[] RefusedNetworks =
    [
        IPNetwork.Parse("0.0.0.0/8"), // "this network"; 0.0.0.0 reaches the local host
        IPNetwork.Parse("10.0.0.0/8"),
        IPNetwork.Parse("100.64.0.0/10"), // carrier-grade NAT
        IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"), // link-local, with the cloud metadata server 169.254.169.254
        IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"), // IETF protocol assignments
        IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("198.18.0.0/15"), // benchmarking
        IPNetwork.Parse("224.0.0.0/4"), // multicast
        IPNetwork.Parse("240.0.0.0/4"), // reserved and broadcast
        IPNetwork.Parse("::/128"),
        IPNetwork.Parse("::1/128"),
        IPNetwork.Parse("fc00::/7"), // unique-local (AWS's metadata fd00:ec2::254 is one)
        IPNetwork.Parse("fe80::/10"), // link-local
        IPNetwork.Parse("fec0::/10"), // deprecated site-local
        IPNetwork.Parse("ff00::/8"), // multicast
    ];

    /// <summary>IPv6 forms that carry an IPv4 address inside: NAT64, 6to4 and the old IPv4-compatible form.</summary>
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");
    private static readonly IPNetwork V4Compatible = IPNetwork.Parse("::/96");

    /// <summary>True when the portal must not connect to <paramref name="address"/>, in any of its notations.</summary>
    public static bool IsRefused(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return IsRefused(address.MapToIPv4());
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            if (Nat64.Contains(address) || (V4Compatible.Contains(address) && !address.Equals(IPAddress.IPv6Any) && !address.Equals(IPAddress.IPv6Loopback)))
            {
                return IsRefused(new IPAddress(bytes.AsSpan(12, 4)));
            }

            if (SixToFour.Contains(address) && IsRefused(new IPAddress(bytes.AsSpan(2, 4))))
            {
                return true;
            }
        }

        return RefusedNetworks.Any(n => n.Contains(address));
    }

    /// <summary>Names that are the local host or a cloud's internal metadata service whatever DNS says.</summary>
    public static bool IsRefusedName(string host)
    {
        var name = host.TrimEnd('.').ToLowerInvariant();
        return name is "localhost" or "metadata" or "metadata.google.internal" || name.EndsWith(".localhost", StringComparison.Ordinal) || name.EndsWith(".internal", StringComparison.Ordinal);
    }

    /// <summary>
    /// The save-time check: null when the URL may be saved, else a message for the admin. Resolves the name once
    /// to refuse an internal destination early; the connection is checked again every time.
    /// </summary>
    public static async Task<string?> CheckAsync(string url, bool development, bool allowLoopback, CancellationToken ct)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.HostNameType is UriHostNameType.Unknown)
        {
            return "The alert webhook must be an absolute https URL.";
        }

        if (uri.Scheme != Uri.UriSchemeHttps && !(development && uri.Scheme == Uri.UriSchemeHttp))
        {
            return "The alert webhook must use https.";
        }

        if (allowLoopback && development)
        {
            return null;
        }

        if (IsRefusedName(uri.IdnHost))
        {
            return "The alert webhook must point at a public internet address, not at the local host or a cloud-internal name.";
        }

        IPAddress[] addresses;
        try
        {
            addresses = await ResolveAsync(uri.IdnHost, ct);
        }
        catch (SocketException)
        {
            // A name that does not resolve today may tomorrow; the connection is checked again every time.
            return null;
        }

        return addresses.Any(IsRefused)
            ? "The alert webhook must point at a public internet address: this one is a loopback, private, link-local, shared or multicast address."
            : null;
    }

    /// <summary>
    /// The webhook client's handler: no redirects (a 3xx is a failed delivery, never a second destination), no
    /// proxy, and a connect step that resolves the host itself and connects only if every address is allowed
    /// (all of them: a name must not be able to offer one public and one internal address). The socket then
    /// connects to exactly the addresses checked, never to a name resolved again.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(bool allowLoopback, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        ConnectCallback = (context, ct) => ConnectAsync(context, allowLoopback, resolve ?? ResolveAsync, ct),
    };

    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowLoopback, Func<string, CancellationToken, Task<IPAddress[]>> resolve, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        if (!allowLoopback && IsRefusedName(host))
        {
            throw new RefusedDestinationException("The webhook host is a refused name.");
        }

        var literal = host.Trim('[', ']');
        var addresses = IPAddress.TryParse(literal, out var parsed) ? [parsed] : await resolve(host, ct);
        if (addresses.Length == 0 || (!allowLoopback && addresses.Any(IsRefused)))
        {
            throw new RefusedDestinationException("The webhook host resolves to a refused address.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct)
    {
        // Every numeric notation (decimal 2130706433, hex 0x7f000001, bracketed IPv6) is an address, not a name.
        var literal = host.Trim('[', ']');
        return IPAddress.TryParse(literal, out var address) ? [address] : await Dns.GetHostAddressesAsync(host, ct);
    }

    /// <summary>Shown and logged instead of the URL, whose path often carries the receiver's secret: scheme and host only.</summary>
    public static string Redact(string? url) =>
        string.IsNullOrEmpty(url) ? "" : Uri.TryCreate(url, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}/…" : "(unreadable)";
}
