using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace Portal.Web.Tests.Security;

/// <summary>
/// docs/security-requirements.md D8 and D7: hostile and random strings as look-up logins, verification fields, action fields
/// and route ids. No 5xx; every Okta search the emulator received is one exact, correctly escaped
/// literal; no Okta path carries an unescaped character; no log line carries a line break from the input.
/// </summary>
public sealed class FuzzTests : IAsyncLifetime
{
    private const int Seed = 20240611;
    private const string Marker = "FORGEDLOGLINE";

    private static readonly string[] Hostile =
    [
        "\"", "\\", "\\\"", "\"\"", "x\" or profile.login sw \"", "a\" or profile.email sw \"\" or \"1\" eq \"1",
        "alice.caller@demo.example\" or profile.login sw \"b", "alice.caller@demo.example\\", "alice.caller@demo.example\\\"",
        $"x\r\n{Marker} level=error forged", $"x\n{Marker}", $"x\r{Marker}", "%00", "a\0b", "%0d%0a" + Marker,
        "' or '1'='1", "'; DROP TABLE users; --", "{{7*7}}", "${jndi:ldap://x}", "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>",
        "../", "../../etc/passwd", "..", "..%2f..%2f", "/", "?", "#", "&limit=200", "a&search=profile.login sw \"\"",
        "ａｌｉｃｅ＠ｄｅｍｏ", "\u202Eevil", "\uFEFF", "\uD83D\uDE00", "é\u0301", "\u0130", "\u00A0",
        new string('a', 257), new string('"', 300), new string('\\', 5000), " ", "", "\t", "null", "undefined", "-1", "99999999999999999999",
        "0123456789abcdef0123456789abcdef", "0123456789ABCDEF0123456789ABCDEF", "CfDJ8" + new string('A', 200),
    ];

    private readonly PortalTestHost _host = new();

    public FuzzTests()
    {
        _host.Settings["Portal:Web:RateLimits:SensitivePermitLimit"] = "100000";
        _host.Settings["Portal:Web:RateLimits:AgentPermitLimit"] = "100000";
        _host.Settings["Portal:Web:RateLimits:AddressPermitLimit"] = "100000";
    }

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task HostileAndRandomInput_NoServerErrorNoUnescapedIdpQueryNoForgedLogLine()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(SecurityTestKit.Tier3));
        var callerPage = await agent.LookupAsync(SecurityTestKit.Bob);
        var callerRef = PortalTestHost.HiddenValue(callerPage, "callerRef");
        var factorId = PortalTestHost.HiddenValue(callerPage, "factorId");
        var token = PortalTestHost.FormToken(callerPage);
        var random = new Random(Seed);
        var inputs = Hostile.Concat(Enumerable.Range(0, 60).Select(_ => RandomString(random))).ToList();
        var failures = new List<string>();
        var sent = 0;

        async Task Post(string path, params (string Name, string Value)[] fields)
        {
            // A post answered by Post/Redirect/Get is followed, so the page it leads to meets the input too.
            var response = await PumpClockWhileWaitingAsync(PortalTestHost.PostFormAsync(agent.Browser, path, token, fields));
            response = await PumpClockWhileWaitingAsync(PortalTestHost.FollowSeeOtherAsync(agent.Browser, response, "/"));
            sent++;
            if ((int)response.StatusCode >= 500)
            {
                failures.Add($"POST {path} {Show(fields)} -> {(int)response.StatusCode}");
            }
        }

        async Task Get(string path)
        {
            var response = await PumpClockWhileWaitingAsync(agent.Browser.GetAsync(path));
            sent++;
            if ((int)response.StatusCode >= 500)
            {
                failures.Add($"GET {path} -> {(int)response.StatusCode}");
            }
        }

        foreach (var input in inputs)
        {
            await Post("/console/lookup", ("login", input));
            await Post("/console/lookup", ("login", SecurityTestKit.Alice[..5] + input));
            await Post("/verification/totp", ("callerRef", callerRef), ("factorId", input), ("code", input));
            await Post("/verification/totp", ("callerRef", input), ("factorId", factorId), ("code", "123456"));
            await Post("/verification/push", ("callerRef", input), ("factorId", input));
            await Post("/verification/push", ("callerRef", callerRef), ("factorId", input));
            await Post("/actions/revoke-sessions", ("verificationId", input), ("ticketRef", input));
            await Post("/actions/password-reset", ("verificationId", input), ("kind", input), ("ticketRef", input));
            await Get("/audit?cursor=" + Uri.EscapeDataString(input));

            // A NUL in a path never reaches the app: Kestrel (and the test server) refuse the request line.
            if (!input.Contains('\0', StringComparison.Ordinal))
            {
                await Post("/verification/pending/" + Uri.EscapeDataString(input) + "/poll");
                await Get("/verification/pending/" + Uri.EscapeDataString(input));
                await Get("/verification/session/" + Uri.EscapeDataString(input));
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Take(20)));
        Assert.True(sent >= inputs.Count * 9);

        var searches = _host.Emulator.State.Requests.Where(r => r.PathAndQuery.Contains("search=", StringComparison.Ordinal)).ToList();
        Assert.True(searches.Count >= inputs.Count / 2, $"Only {searches.Count} searches reached the IdP: the fuzz did not exercise the query.");
        foreach (var request in _host.Emulator.State.Requests)
        {
            Assert.True(IsPlainUrl(request.PathAndQuery), "An Okta request path carries an unescaped character: " + request.PathAndQuery);
            var query = QueryHelpers.ParseQuery(new Uri("http://x" + request.PathAndQuery).Query);
            if (query.TryGetValue("search", out var search))
            {
                Assert.True(query["search"].Count == 1 && query.Keys.Count == 2, "A search request carries extra parameters: " + request.PathAndQuery);
                Assert.True(IsOneExactLiteral(search.ToString()), "Not one escaped literal: " + search);
            }
        }

        Assert.DoesNotContain(_host.LogLines, line => line.Contains(Marker, StringComparison.Ordinal));
        Assert.DoesNotContain(_host.LogLines, line => line.Contains("\n" + Marker, StringComparison.Ordinal) || line.Contains("\r" + Marker, StringComparison.Ordinal));
    }

    /// <summary>
    /// The IdP client's retries and timeouts run on the portal's clock, which here is the test's fake clock:
    /// a request that is retrying an IdP failure would wait forever. Moving the clock on only while a request
    /// is pending lets the retry policy play out as it would in real time.
    /// </summary>
    private async Task<HttpResponseMessage> PumpClockWhileWaitingAsync(Task<HttpResponseMessage> request)
    {
        while (await Task.WhenAny(request, Task.Delay(TimeSpan.FromMilliseconds(200))) != request)
        {
            _host.Clock.Advance(TimeSpan.FromSeconds(2));
        }

        return await request;
    }

    [Theory]
    [InlineData("profile.login eq \"a\" or profile.email eq \"a\"", true)]
    [InlineData("profile.login eq \"a\\\"b\" or profile.email eq \"a\\\"b\"", true)]
    [InlineData("profile.login eq \"a\\\\\" or profile.email eq \"a\\\\\"", true)]
    [InlineData("profile.login eq \"a\" or profile.login sw \"\" or profile.email eq \"a\"", false)]
    [InlineData("profile.login eq \"a\"b\" or profile.email eq \"a\"b\"", false)]
    [InlineData("profile.login eq \"a\\\" or profile.email eq \"a\\\"", false)]
    [InlineData("profile.login eq \"a\" or profile.email eq \"b\"", false)]
    public void IsOneExactLiteral_RecognisesEscapedAndInjectedSearches(string search, bool expected)
    {
        Assert.Equal(expected, IsOneExactLiteral(search));
    }

    /// <summary>
    /// The search is exactly <c>profile.login eq "V" or profile.email eq "V"</c> where V, read as Okta reads
    /// a string literal, ends at the first unescaped quote: anything left over would be injected syntax.
    /// </summary>
    internal static bool IsOneExactLiteral(string search)
    {
        const string first = "profile.login eq ";
        const string second = " or profile.email eq ";
        if (!search.StartsWith(first, StringComparison.Ordinal) || !TryReadLiteral(search, first.Length, out var login, out var end))
        {
            return false;
        }

        var rest = search[end..];
        return rest.StartsWith(second, StringComparison.Ordinal)
            && TryReadLiteral(rest, second.Length, out var email, out var emailEnd)
            && emailEnd == rest.Length
            && login == email;
    }

    private static bool TryReadLiteral(string text, int start, out string value, out int end)
    {
        value = "";
        end = start;
        if (start >= text.Length || text[start] != '"')
        {
            return false;
        }

        var builder = new StringBuilder();
        for (var i = start + 1; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length)
            {
                builder.Append(text[++i]);
                continue;
            }

            if (text[i] == '"')
            {
                value = builder.ToString();
                end = i + 1;
                return true;
            }

            builder.Append(text[i]);
        }

        return false;
    }

    private static bool IsPlainUrl(string pathAndQuery) =>
        pathAndQuery.All(c => char.IsAsciiLetterOrDigit(c) || "-._~%/?&=+".Contains(c, StringComparison.Ordinal));

    private static string RandomString(Random random)
    {
        const string alphabet = "\"\\'%&=?#/.:;<>{}[]()$@!*+ \t\r\n\0abcAZ09é€\u202E";
        var length = random.Next(0, 80);
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = random.Next(4) == 0 ? (char)random.Next(1, 0xD7FF) : alphabet[random.Next(alphabet.Length)];
        }

        return new string(chars);
    }

    private static string Show((string Name, string Value)[] fields) =>
        string.Join(" ", fields.Select(f => f.Name + "=" + Uri.EscapeDataString(f.Value.Length > 40 ? f.Value[..40] : f.Value)));
}
