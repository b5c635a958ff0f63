using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Portal.Audit;

/// <summary>
/// Masks logins so that a stored record or a page can show which kind of account it was without naming
/// anyone: <c>john.doe@example.com</c> becomes <c>j***@e***.com</c>.
/// </summary>
public static class PiiMask
{
    private const string Stars = "***";

    /// <summary>
    /// An e-mail keeps the first character of its local part, the first character of the domain label
    /// before the last dot, and the top-level domain; anything else keeps its first character. Lowercased,
    /// so that one person's logins mask alike; masking a masked value changes nothing.
    /// </summary>
    public static string Email(string? value)
    {
        var text = value?.Trim().TrimEnd('.').ToLowerInvariant();
        if (string.IsNullOrEmpty(text))
        {
            return Stars;
        }

        var at = text.LastIndexOf('@');
        if (at < 0)
        {
            return First(text);
        }

        var local = First(text[..at]);
        var domain = text[(at + 1)..];
        var lastDot = domain.LastIndexOf('.');
        if (lastDot < 0)
        {
            return $"{local}@{First(domain)}";
        }

        var labels = domain[..lastDot];
        var label = labels[(labels.LastIndexOf('.') + 1)..];
        return $"{local}@{First(label)}.{domain[(lastDot + 1)..]}";
    }

    private static string First(string part)
    {
        if (part.Length == 0 || Rune.DecodeFromUtf16(part, out _, out var length) != System.Buffers.OperationStatus.Done)
        {
            return Stars;
        }

        return part[..length] + Stars;
    }
}

/// <summary>The client's network rather than its address: enough to spot a pattern, not to find a person.</summary>
public static class ClientNetwork
{
    /// <summary>IPv4 as its /24 (<c>203.0.113.0/24</c>), IPv6 as its /48 (<c>2001:db8:1234::/48</c>), IPv4-mapped IPv6 as IPv4; null when not an address.</summary>
    public static string? Truncate(string? address)
    {
        var text = address?.Trim();
        if (string.IsNullOrEmpty(text) || !IPAddress.TryParse(text, out var ip))
        {
            return null;
        }

        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }
        else if (ip.AddressFamily == AddressFamily.InterNetwork && text.Count(c => c == '.') != 3)
        {
            // IPAddress also accepts "1" or "10.1" as IPv4; a header that odd is not an address we can vouch for.
            return null;
        }

        var bytes = ip.GetAddressBytes();
        if (ip.AddressFamily == AddressFamily.InterNetwork)
        {
            return $"{bytes[0]}.{bytes[1]}.{bytes[2]}.0/24";
        }

        if (ip.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return null;
        }

        Array.Clear(bytes, 6, bytes.Length - 6);
        return new IPAddress(bytes) + "/48";
    }
}

/// <summary>The browser family of a User-Agent header: the full header is a fingerprint.</summary>
public static class UserAgentFamily
{
    public const string Edge = "Edge";
    public const string Chrome = "Chrome";
    public const string Firefox = "Firefox";
    public const string Safari = "Safari";
    public const string Other = "Other";

    /// <summary>"Edge", "Chrome", "Firefox", "Safari" or "Other". Edge and Opera also say Chrome, and Chrome also says Safari, so the order of the checks matters.</summary>
    public static string Of(string? userAgent)
    {
        if (string.IsNullOrWhiteSpace(userAgent))
        {
            return Other;
        }

        if (Has(userAgent, "Edg/") || Has(userAgent, "Edge/") || Has(userAgent, "EdgA/") || Has(userAgent, "EdgiOS/"))
        {
            return Edge;
        }

        if (Has(userAgent, "OPR/") || Has(userAgent, "Opera") || Has(userAgent, "SamsungBrowser/"))
        {
            return Other;
        }

        if (Has(userAgent, "Firefox/") || Has(userAgent, "FxiOS/"))
        {
            return Firefox;
        }

        if (Has(userAgent, "Chrome/") || Has(userAgent, "CriOS/") || Has(userAgent, "Chromium/"))
        {
            return Chrome;
        }

        if (Has(userAgent, "Safari/") && Has(userAgent, "Version/"))
        {
            return Safari;
        }

        return Other;
    }

    private static bool Has(string userAgent, string token) => userAgent.Contains(token, StringComparison.Ordinal);
}

/// <summary>A helpdesk ticket reference as the agent typed it, reduced to characters that cannot carry markup or a sentence of PII.</summary>
public static class TicketRef
{
    public const int MaxLength = 64;

    /// <summary>Keeps [A-Za-z0-9-_#./], at most 64 of them; null when nothing is left.</summary>
    public static string? Sanitise(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var kept = new StringBuilder(Math.Min(value.Length, MaxLength));
        foreach (var c in value)
        {
            if (kept.Length == MaxLength)
            {
                break;
            }

            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '#' or '.' or '/')
            {
                kept.Append(c);
            }
        }

        return kept.Length == 0 ? null : kept.ToString();
    }
}
