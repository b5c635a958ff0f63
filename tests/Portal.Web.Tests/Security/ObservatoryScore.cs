namespace Portal.Web.Tests.Security;

/// <summary>
/// The header-based part of Mozilla's HTTP Observatory scoring (the rules of its published scoring table
/// for CSP, cookies, CORS, Referrer-Policy, HSTS, X-Content-Type-Options, X-Frame-Options), applied to one
/// response. Base 100; bonuses count only when the score without them is at least 90; A+ is 100 or more.
/// The redirection and SRI tests need a live origin and are not scored here (docs/security-model.md).
/// </summary>
public sealed class ObservatoryScore
{
    private readonly List<string> _findings = [];

    public int Score { get; private set; }

    public IReadOnlyList<string> Findings => _findings;

    public static ObservatoryScore Of(HttpResponseMessage response)
    {
        var result = new ObservatoryScore();
        var penalties = 0;
        var bonuses = 0;

        void Penalty(int points, string finding)
        {
            penalties += points;
            result._findings.Add($"-{points} {finding}");
        }

        var csp = Header(response, "Content-Security-Policy");
        if (csp is null)
        {
            Penalty(25, "csp-not-implemented");
        }
        else
        {
            var directives = Directives(csp);
            var script = directives.GetValueOrDefault("script-src") ?? directives.GetValueOrDefault("default-src") ?? [];
            var style = directives.GetValueOrDefault("style-src") ?? directives.GetValueOrDefault("default-src") ?? [];
            var insecureSources = script.Any(s => s is "*" or "http:" or "https:" or "data:" || s.StartsWith("http://", StringComparison.Ordinal));
            if (script.Contains("'unsafe-inline'") && !script.Any(s => s.StartsWith("'nonce-", StringComparison.Ordinal) || s.StartsWith("'sha", StringComparison.Ordinal)))
            {
                Penalty(20, "csp-implemented-with-unsafe-inline");
            }
            else if (insecureSources)
            {
                Penalty(20, "csp-implemented-with-insecure-scheme");
            }
            else if (script.Contains("'unsafe-eval'"))
            {
                Penalty(10, "csp-implemented-with-unsafe-eval");
            }
            else if (style.Contains("'unsafe-inline'"))
            {
                result._findings.Add("0 csp-implemented-with-unsafe-inline-in-style-src-only");
            }
            else if (directives.GetValueOrDefault("default-src") is ["'none'"])
            {
                bonuses += 10;
                result._findings.Add("+10 csp-implemented-with-no-unsafe-default-src-none");
            }
        }

        var cookies = response.Headers.TryGetValues("Set-Cookie", out var setCookies) ? setCookies.ToList() : [];
        if (cookies.Count > 0)
        {
            var attributes = cookies.Select(c => c.Split(';').Skip(1).Select(a => a.Trim().ToLowerInvariant()).ToList()).ToList();
            if (attributes.Any(a => !a.Contains("secure")))
            {
                Penalty(20, "cookies-without-secure-flag");
            }
            else if (attributes.Any(a => !a.Contains("httponly")))
            {
                Penalty(30, "cookies-session-without-httponly-flag");
            }
            else if (attributes.Any(a => a.Contains("samesite=none")))
            {
                Penalty(20, "cookies-samesite-flag-invalid");
            }
            else if (attributes.All(a => a.Any(x => x.StartsWith("samesite=", StringComparison.Ordinal))))
            {
                bonuses += 5;
                result._findings.Add("+5 cookies-secure-with-httponly-sessions-and-samesite");
            }
        }

        if (Header(response, "Access-Control-Allow-Origin") == "*")
        {
            Penalty(50, "cross-origin-resource-sharing-implemented-with-universal-access");
        }

        var referrer = Header(response, "Referrer-Policy")?.Split(',').Select(v => v.Trim().ToLowerInvariant()).LastOrDefault();
        if (referrer is "no-referrer" or "same-origin" or "strict-origin" or "strict-origin-when-cross-origin")
        {
            bonuses += 5;
            result._findings.Add("+5 referrer-policy-private");
        }
        else if (referrer is "origin" or "origin-when-cross-origin" or "no-referrer-when-downgrade" or "unsafe-url")
        {
            Penalty(5, "referrer-policy-unsafe");
        }

        var hsts = Header(response, "Strict-Transport-Security");
        var maxAge = hsts?.Split(';').Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("max-age=", StringComparison.OrdinalIgnoreCase)) is { } m
            && long.TryParse(m["max-age=".Length..], out var seconds) ? seconds : -1;
        if (hsts is null || maxAge < 0)
        {
            Penalty(20, "hsts-not-implemented");
        }
        else if (maxAge < 15768000)
        {
            Penalty(10, "hsts-implemented-max-age-less-than-six-months");
        }

        if (!string.Equals(Header(response, "X-Content-Type-Options"), "nosniff", StringComparison.OrdinalIgnoreCase))
        {
            Penalty(5, "x-content-type-options-not-implemented");
        }

        var frameAncestorsNone = csp is not null && Directives(csp).GetValueOrDefault("frame-ancestors") is ["'none'"] or ["'self'"];
        var xfo = Header(response, "X-Frame-Options")?.ToUpperInvariant();
        if (frameAncestorsNone)
        {
            bonuses += 5;
            result._findings.Add("+5 x-frame-options-implemented-via-csp");
        }
        else if (xfo is not ("DENY" or "SAMEORIGIN"))
        {
            Penalty(20, "x-frame-options-not-implemented");
        }

        var withoutBonuses = 100 - penalties;
        result.Score = withoutBonuses >= 90 ? withoutBonuses + bonuses : withoutBonuses;
        return result;
    }

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values)
        : response.Content.Headers.TryGetValues(name, out var contentValues) ? string.Join(", ", contentValues)
        : null;

    public static Dictionary<string, string[]> Directives(string csp) => csp
        .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(d => d.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .Where(parts => parts.Length > 0)
        .GroupBy(parts => parts[0].ToLowerInvariant())
        .ToDictionary(g => g.Key, g => g.First().Skip(1).ToArray(), StringComparer.Ordinal);

    public override string ToString() => $"{Score} [{string.Join("; ", _findings)}]";
}
