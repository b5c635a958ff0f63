using System.Net;
using Microsoft.Extensions.Options;
using Portal.Web.Tenancy;

namespace Portal.Web.Platform;

/// <summary>Where a request really came from: the client's address and the scheme it used, as the portal's trusted proxies saw them.</summary>
public sealed record ClientOrigin(IPAddress? Address, string Scheme);

/// <summary>
/// The one resolver of forwarded headers for the whole portal (docs/security-requirements.md A4). Each trusted proxy appends
/// the address it received the request from to <c>X-Forwarded-For</c>, so the entry
/// <see cref="WebOptions.TrustedProxyHops"/> from the right is the one the outermost trusted proxy wrote: the
/// right-most entry no trusted proxy vouches for. Whatever a client writes into the header itself stands to
/// the left of it and is never read, so a spoofed entry cannot move the address that is checked.
/// <para>
/// The result is resolved once per request by <see cref="ForwardedRequestMiddleware"/>, the first step of
/// the pipeline, which also makes it the request's remote address and scheme: the IP allow-list, the rate
/// limits, the audit trail's client network, the address sent to the IdP, Secure cookies and the https
/// redirection all read the same value. ASP.NET Core's own forwarded-headers middleware is refused at
/// start-up (<c>ASPNETCORE_FORWARDEDHEADERS_ENABLED</c>): it trusts any one hop and rewrites the header.
/// </para>
/// </summary>
public sealed class ClientAddressResolver(IOptions<WebOptions> options)
{
    private const int MaxEntries = 64;

    public int TrustedProxyHops => options.Value.TrustedProxyHops;

    /// <summary>The client address, or null when it cannot be known (then an allow-list refuses the request).</summary>
    public IPAddress? Resolve(HttpContext context) => Origin(context).Address;

    /// <summary>The request's origin, resolved once and kept on the request.</summary>
    public ClientOrigin Origin(HttpContext context)
    {
        if (context.Features.Get<ClientOrigin>() is { } resolved)
        {
            return resolved;
        }

        var origin = new ClientOrigin(
            Resolve(context.Connection.RemoteIpAddress, context.Request.Headers["X-Forwarded-For"], TrustedProxyHops),
            ResolveScheme(context.Request.Scheme, context.Request.Headers["X-Forwarded-Proto"], TrustedProxyHops));
        context.Features.Set(origin);
        return origin;
    }

    public static IPAddress? Resolve(IPAddress? socketAddress, IEnumerable<string?> forwardedFor, int trustedProxyHops)
    {
        if (trustedProxyHops <= 0)
        {
            return socketAddress is null ? null : IpAllowListRules.Normalise(socketAddress);
        }

        var entries = Entries(forwardedFor);
        if (entries is null || entries.Count == 0 || entries.Count < trustedProxyHops)
        {
            // Fewer entries than trusted proxies: the request did not come through them all, so no entry is
            // known to be written by a trusted proxy. A header this long is not from our proxies either.
            return null;
        }

        return TryParse(entries[^trustedProxyHops], out var address) ? IpAllowListRules.Normalise(address) : null;
    }

    /// <summary>
    /// The scheme the client used. Google's front ends set <c>X-Forwarded-Proto</c> (one value, or one per
    /// hop when appended): the value at the same position as the client address, or the right-most when
    /// the proxies overwrite rather than append. Without trusted proxies, or without the header, it is the
    /// connection's own scheme. Only <c>http</c> and <c>https</c> are taken.
    /// </summary>
    public static string ResolveScheme(string connectionScheme, IEnumerable<string?> forwardedProto, int trustedProxyHops)
    {
        if (trustedProxyHops <= 0)
        {
            return connectionScheme;
        }

        var entries = Entries(forwardedProto);
        if (entries is null || entries.Count == 0)
        {
            return connectionScheme;
        }

        var value = entries[^Math.Min(trustedProxyHops, entries.Count)];
        return value.Equals("https", StringComparison.OrdinalIgnoreCase) ? "https"
            : value.Equals("http", StringComparison.OrdinalIgnoreCase) ? "http"
            : connectionScheme;
    }

    private static List<string>? Entries(IEnumerable<string?> values)
    {
        var entries = values
            .SelectMany(h => (h ?? "").Split(',', StringSplitOptions.TrimEntries))
            .Take(MaxEntries + 1)
            .ToList();
        return entries.Count > MaxEntries ? null : entries;
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

/// <summary>
/// The first step of the pipeline: resolves the request's client address and scheme once
/// (<see cref="ClientAddressResolver"/>) and makes them the connection's remote address and the request's
/// scheme, so every later step (and the framework's own: cookies' Secure flag, the OIDC handler) sees them.
/// </summary>
internal sealed class ForwardedRequestMiddleware(RequestDelegate next, ClientAddressResolver resolver)
{
    public Task InvokeAsync(HttpContext context)
    {
        var origin = resolver.Origin(context);
        if (resolver.TrustedProxyHops > 0)
        {
            // Behind trusted proxies the socket is the proxy. An unknown client is left unknown rather than
            // mistaken for the proxy (an allow-list refuses it; the rate limits share one partition for it).
            context.Connection.RemoteIpAddress = origin.Address;
            context.Request.Scheme = origin.Scheme;
        }

        return next(context);
    }
}
