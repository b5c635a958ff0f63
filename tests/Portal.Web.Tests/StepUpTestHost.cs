using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using Portal.IdpEmulator;
using Portal.Storage;

namespace Portal.Web.Tests;

/// <summary>
/// A portal with two tenants over one emulator on loopback: <c>demo-okta</c> (Okta, with step-up at the Okta-like
/// caller authority) and <c>demo-entra</c> (Entra: agent sign-in, Graph and step-up at the Entra-like authority).
/// Every hop (sign-in, step-up, Graph) is real HTTP. A <see cref="PortalHost"/> with the step-up helpers.
/// </summary>
public sealed partial class StepUpTestHost : PortalHost
{
    public const string OktaTenant = "demo-okta";
    public const string EntraTenant = "demo-entra";
    private const string OktaAgentClient = "portal-test";
    private const string EntraAgentClient = "0b6f1d2e-7a41-4c55-9e1a-3f2b8c7d6e01";
    private const string GraphClient = "0b6f1d2e-7a41-4c55-9e1a-3f2b8c7d6e02";

    public StepUpTestHost()
        : base(new FakeTimeProvider(DateTimeOffset.UtcNow), "portal-stepup-tests-")
    {
    }

    public FakeTimeProvider Clock => (FakeTimeProvider)Time;

    /// <summary>The Entra agent sign-in client's secret (for tests that redeem a code themselves).</summary>
    public string EntraAgentSecret => Secret("AGENT_" + EntraTenant);

    /// <summary>Turns on <c>entra.push</c> (the Azure MFA connector at the emulator) for the Entra tenant.</summary>
    public bool EnableEntraPush { get; init; }

    /// <summary>Signs an Okta demo agent in through the real code flow.</summary>
    public Task<HttpClient> SignInOktaAsync(string agentEmail) =>
        SignInAsync(OktaTenant, Emulator.OktaIssuer.ToString(), Emulator.State.Agents.Single(a => a.Email == agentEmail).Subject);

    /// <summary>Signs an Entra demo agent in through the real code flow at the Entra-like authority.</summary>
    public Task<HttpClient> SignInEntraAsync(string userPrincipalName) =>
        SignInAsync(EntraTenant, new Uri(Emulator.BaseUrl, EntraDemo.TenantId + "/oauth2/v2.0/authorize").ToString(), Emulator.State.EntraAgents.Single(a => a.UserPrincipalName == userPrincipalName).ObjectId);

    public async Task<string> GetPageAsync(HttpClient browser, string path)
    {
        var response = await browser.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    public async Task<string> LookupAsync(HttpClient browser, string login)
    {
        var console = await GetPageAsync(browser, "/console");
        var response = await PortalTestHost.PostFormAsync(browser, "/console/lookup", PortalTestHost.FormToken(console), ("login", login));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Starts a step-up from a caller's page: the pending path, the link and the code (shown once).</summary>
    public async Task<(string PendingPath, Uri Link, string Code)> StartStepUpAsync(HttpClient browser, string callerPage)
    {
        var response = await PostStepUpStartAsync(browser, callerPage);

        // Post/Redirect/Get: the step-up's page is a GET, and the link and code come with it from the agent's own cookie.
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        var page = await GetPageAsync(browser, response.Headers.Location!.OriginalString);
        var link = new Uri(WebUtility.HtmlDecode(Field(page, "stepup-link")));
        var pendingId = PollUrlPattern().Match(page).Groups[1].Value;
        return ($"/verification/pending/{pendingId}", link, Field(page, "stepup-code"));
    }

    /// <summary>Posts the caller page's step-up form as the agent's browser does; the response as it comes.</summary>
    public Task<HttpResponseMessage> PostStepUpStartAsync(HttpClient browser, string callerPage)
    {
        var form = FormPattern().Matches(callerPage).First(m => m.Groups[1].Value == "/verification/stepup").Value;
        return PortalTestHost.PostFormAsync(browser, "/verification/stepup", PortalTestHost.FormToken(form),
            ("callerRef", PortalTestHost.HiddenValue(form, "callerRef")), ("factorId", PortalTestHost.HiddenValue(form, "factorId")));
    }

    public async Task<(string State, string? Next)> PollAsync(HttpClient browser, string pendingPath)
    {
        var page = await GetPageAsync(browser, pendingPath);
        using var request = new HttpRequestMessage(HttpMethod.Post, pendingPath + "/poll");
        request.Headers.Add("Accept", "application/json");
        request.Headers.Add("RequestVerificationToken", PortalTestHost.FormToken(page));
        var response = await browser.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var next = json.RootElement.GetProperty("next");
        return (json.RootElement.GetProperty("state").GetString()!, next.ValueKind == JsonValueKind.Null ? null : next.GetString());
    }

    /// <summary>The caller's browser opens the link and types the code; returns the portal's answer (a redirect to the IdP, or a page).</summary>
    public async Task<HttpResponseMessage> EnterCodeAsync(HttpClient callerBrowser, Uri link, string code)
    {
        var page = await callerBrowser.GetAsync(link.PathAndQuery);
        var html = await page.Content.ReadAsStringAsync();
        if (page.StatusCode != HttpStatusCode.OK || !html.Contains("name=\"code\"", StringComparison.Ordinal))
        {
            return page;
        }

        return await PortalTestHost.PostFormAsync(callerBrowser, link.PathAndQuery, PortalTestHost.FormToken(html), ("code", code));
    }

    /// <summary>
    /// After the right code: the portal answers with its own page (303), which sends the browser on to the IdP by a
    /// GET navigation (meta refresh). Returns the IdP's authorize address that page navigates to.
    /// </summary>
    public async Task<Uri> ContinueToIdpAsync(HttpClient callerBrowser, HttpResponseMessage entered)
    {
        Assert.Equal(HttpStatusCode.SeeOther, entered.StatusCode);
        var next = entered.Headers.Location!.OriginalString;
        Assert.StartsWith("/stepup/continue/", next, StringComparison.Ordinal);
        var page = await GetPageAsync(callerBrowser, next);
        var refresh = MetaRefreshPattern().Match(page);
        Assert.True(refresh.Success, "The page after the code does not navigate on to the IdP.");
        return new Uri(WebUtility.HtmlDecode(refresh.Groups[1].Value));
    }

    /// <summary>
    /// The caller signs in at their IdP's form (as <paramref name="username"/>, with <paramref name="otp"/>) and their
    /// browser returns to the portal's callback; returns the portal's final page.
    /// </summary>
    public async Task<HttpResponseMessage> SignInAtIdpAsync(HttpClient callerBrowser, Uri authorize, string username, string otp)
    {
        using var idpBrowser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var form = await idpBrowser.GetAsync(authorize);
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        var html = await form.Content.ReadAsStringAsync();
        var fields = HiddenPattern().Matches(html)
            .Select(m => new KeyValuePair<string, string>(WebUtility.HtmlDecode(m.Groups[1].Value), WebUtility.HtmlDecode(m.Groups[2].Value)))
            .Concat([new("username", username), new("password", "demo-password"), new("otp", otp)]);
        var signedIn = await idpBrowser.PostAsync(new Uri(authorize.GetLeftPart(UriPartial.Path)), new FormUrlEncodedContent(fields));
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var callback = signedIn.Headers.Location!;
        Assert.Equal("localhost", callback.Host);
        return await callerBrowser.GetAsync(callback.PathAndQuery);
    }

    /// <summary>The whole caller side: link, code, IdP sign-in, callback. Returns the final page.</summary>
    public async Task<HttpResponseMessage> CallerCompletesAsync(Uri link, string code, string username, string otp, HttpClient? callerBrowser = null)
    {
        var browser = callerBrowser ?? NewClient();
        var entered = await EnterCodeAsync(browser, link, code);
        return await SignInAtIdpAsync(browser, await ContinueToIdpAsync(browser, entered), username, otp);
    }

    public async Task<List<JsonObject>> AuditAsync(string tenantId)
    {
        var list = new List<JsonObject>();
        await foreach (var doc in Store.QueryAsync(new DocumentQuery(CollectionPath.ForTenant(tenantId, "audit"))))
        {
            list.Add(doc.Data);
        }

        return list;
    }

    public async Task<int> CountAsync(string tenantId, string collection)
    {
        var count = 0;
        await foreach (var doc in Store.QueryAsync(new DocumentQuery(CollectionPath.ForTenant(tenantId, collection))))
        {
            count++;
        }

        return count;
    }

    /// <summary>Every stored document, as text (for the PII scan).</summary>
    public async Task<string> AllStoredTextAsync()
    {
        var text = new System.Text.StringBuilder();
        foreach (var collection in new[] { "audit", "pendingVerifications", "verificationSessions", "callerCounters", "totpUses" })
        {
            foreach (var tenant in new[] { OktaTenant, EntraTenant })
            {
                await foreach (var doc in Store.QueryAsync(new DocumentQuery(CollectionPath.ForTenant(tenant, collection))))
                {
                    text.AppendLine(doc.Data.ToJsonString());
                }
            }
        }

        foreach (var collection in new[] { "stepUpLinks", "stepUpFlows", "agentSessions" })
        {
            await foreach (var doc in Store.QueryAsync(new DocumentQuery(new CollectionPath(collection))))
            {
                text.AppendLine(doc.Data.ToJsonString());
            }
        }

        return text.ToString();
    }

    private static string Field(string html, string name)
    {
        var match = new Regex($"data-field=\"{Regex.Escape(name)}\">([^<]+)<").Match(html);
        Assert.True(match.Success, $"The page has no field {name}.");
        return WebUtility.HtmlDecode(match.Groups[1].Value).Trim();
    }

    private async Task<HttpClient> SignInAsync(string tenantId, string authorizePrefix, string agentId)
    {
        var client = NewClient();
        var signedIn = await SignInCallbackAsync(tenantId, authorizePrefix, agentId, client);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.DoesNotContain("failed", signedIn.Headers.Location!.ToString(), StringComparison.Ordinal);
        return client;
    }

    protected override IEnumerable<TestTenant> DefaultTenants() =>
    [
        new(OktaTenant, TestIdp.Okta, OktaAgentClient)
        {
            DisplayName = "Demo Org (Okta)",
            GroupTiers = new Dictionary<string, string> { ["Helpdesk Tier 3"] = "Tier 3" },
            StepUp = true,
        },
        new(EntraTenant, TestIdp.Entra, EntraAgentClient)
        {
            GraphClientId = GraphClient,
            DisplayName = "Demo Org (Entra)",
            GroupTiers = new Dictionary<string, string>
            {
                [EntraDemo.Tier1GroupId] = "Tier 1",
                [EntraDemo.Tier3GroupId] = "Tier 3",
                [EntraDemo.Tier3Role] = "Tier 3",
            },
            StepUp = true,
            StepUpRequiredAcrs = ["c1"],
            EntraPush = EnableEntraPush,
        },
    ];

    [GeneratedRegex("<form method=\"post\" action=\"([^\"]+)\"[^>]*>.*?</form>", RegexOptions.Singleline)]
    private static partial Regex FormPattern();

    [GeneratedRegex("<meta http-equiv=\"refresh\" content=\"0;url=([^\"]+)\"")]
    private static partial Regex MetaRefreshPattern();

    [GeneratedRegex("data-poll-url=\"/verification/pending/([0-9a-f]+)/poll\"")]
    private static partial Regex PollUrlPattern();

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">")]
    private static partial Regex HiddenPattern();
}
