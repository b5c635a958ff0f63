using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Portal.IdpEmulator;
using Portal.Storage;
using Portal.Web.Tenancy;

namespace Portal.Web.Tests;

/// <summary>
/// A portal with two tenants over one emulator on loopback: <c>demo-okta</c> (Okta, with step-up at the Okta-like
/// caller authority) and <c>demo-entra</c> (Entra: agent sign-in, Graph and step-up at the Entra-like authority).
/// Every hop (sign-in, step-up, Graph) is real HTTP.
/// </summary>
public sealed partial class StepUpTestHost : IAsyncLifetime
{
    public const string OktaTenant = "demo-okta";
    public const string EntraTenant = "demo-entra";
    private const string OktaAgentClient = "portal-test";
    private const string EntraAgentClient = "0b6f1d2e-7a41-4c55-9e1a-3f2b8c7d6e01";
    private const string GraphClient = "0b6f1d2e-7a41-4c55-9e1a-3f2b8c7d6e02";
    private const string StepUpClient = "0b6f1d2e-7a41-4c55-9e1a-3f2b8c7d6e03";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "portal-stepup-tests-" + Guid.NewGuid().ToString("N"));
    private readonly string _suffix = Guid.NewGuid().ToString("N").ToUpperInvariant();
    private WebApplicationFactory<Program>? _factory;
    private bool _started;
    private EmulatorHost? _emulator;

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    /// <summary>The Entra agent sign-in client's secret (for tests that redeem a code themselves).</summary>
    public string EntraAgentSecret { get; private set; } = "";

    public ConcurrentQueue<string> LogLines { get; } = new();

    public EmulatorHost Emulator => _emulator ?? throw new InvalidOperationException("Not started.");

    public WebApplicationFactory<Program> Factory => _factory ?? throw new InvalidOperationException("Not started.");

    public IDocumentStore Store => Factory.Services.GetRequiredService<IDocumentStore>();

    /// <summary>Settings applied over the defaults, once the emulator's address is known.</summary>
    public Func<EmulatorHost, Dictionary<string, string?>>? ExtraSettings { get; init; }

    /// <summary>Turns on <c>entra.push</c> (the Azure MFA connector at the emulator) for the Entra tenant.</summary>
    public bool EnableEntraPush { get; init; }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        string Secret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
        var (oktaToken, agentSecret, entraAgentSecret, graphSecret, stepUpSecret) = (Secret(), Secret(), Secret(), Secret(), Secret());
        EntraAgentSecret = entraAgentSecret;
        // The emulator runs on the portal's clock: push expiry, TOTP windows and token lifetimes move together.
        var options = new EmulatorOptions { OktaApiToken = oktaToken, TimeProvider = Clock };
        options.Clients.Add(new EmulatorClient(OktaAgentClient, agentSecret));
        options.EntraAgentClients.Add(new EmulatorClient(EntraAgentClient, entraAgentSecret));
        options.GraphClients.Add(new EmulatorClient(GraphClient, graphSecret));
        options.StepUpClients.Add(new EmulatorClient(StepUpClient, stepUpSecret));
        var mfaConnectorSecret = Secret();
        options.GraphClients.Add(new EmulatorClient(MfaConnector.AppId, mfaConnectorSecret));
        _emulator = await EmulatorHost.StartAsync(options);

        string Variable(string name, string value)
        {
            var variable = $"PORTAL_STEPUP_TEST_{name}_{_suffix}";
            Environment.SetEnvironmentVariable(variable, value);
            return "env:" + variable;
        }

        var keyFile = Path.Combine(_directory, "pseudonymisation.key");
        await File.WriteAllTextAsync(keyFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var keyRingFile = Path.Combine(_directory, "keyring.key");
        await File.WriteAllTextAsync(keyRingFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var stepUpSecretRef = Variable("STEPUP", stepUpSecret);
        var entraIssuer = Emulator.EntraIssuer().ToString();
        var settings = new Dictionary<string, string?>
        {
            ["Portal:Emulator:Enabled"] = "false",
            // Off where tests count IdP requests; ConnectionCheckTests turn it on.
            ["Portal:Tenancy:ConnectionCheckAtStartup"] = "false",
            // The demo tenant reads its IdP log in the background (appsettings.Development.json); the tests that are
            // about it drive each reading themselves (ReconciliationTests).
            ["Portal:Tenancy:ReconciliationInBackground"] = "false",
            ["Portal:Web:RequireHttps"] = "true",
            ["Portal:Web:PseudonymisationKeySecret"] = "file:" + keyFile,
            ["Portal:Web:KeyRingEncryptionKeySecret"] = "file:" + keyRingFile,
            ["Portal:Storage:Provider"] = "Sqlite",
            ["Portal:Storage:Sqlite:Path"] = Path.Combine(_directory, "portal.db"),

            ["Portal:Tenants:0:Id"] = OktaTenant,
            ["Portal:Tenants:0:DisplayName"] = "Demo Org (Okta)",
            ["Portal:Tenants:0:Idp:BaseUrl"] = Emulator.BaseUrl.ToString(),
            ["Portal:Tenants:0:Idp:ApiTokenSecret"] = Variable("OKTA", oktaToken),
            ["Portal:Tenants:0:AgentSignIn:Authority"] = Emulator.OktaIssuer.ToString(),
            ["Portal:Tenants:0:AgentSignIn:ClientId"] = OktaAgentClient,
            ["Portal:Tenants:0:AgentSignIn:ClientSecretSecret"] = Variable("AGENT", agentSecret),
            ["Portal:Tenants:0:GroupTiers:Helpdesk Tier 3"] = "Tier 3",
            ["Portal:Tenants:0:StepUp:Authority"] = Emulator.CallerIssuer.ToString(),
            ["Portal:Tenants:0:StepUp:ClientId"] = StepUpClient,
            ["Portal:Tenants:0:StepUp:ClientSecretSecret"] = stepUpSecretRef,

            ["Portal:Tenants:1:Id"] = EntraTenant,
            ["Portal:Tenants:1:DisplayName"] = "Demo Org (Entra)",
            ["Portal:Tenants:1:Idp:Kind"] = "Entra",
            ["Portal:Tenants:1:Idp:BaseUrl"] = new Uri(Emulator.BaseUrl, "v1.0").ToString(),
            ["Portal:Tenants:1:Idp:ApiTokenSecret"] = Variable("GRAPH", graphSecret),
            ["Portal:Tenants:1:Idp:Entra:DirectoryTenantId"] = EntraDemo.TenantId,
            ["Portal:Tenants:1:Idp:Entra:ClientId"] = GraphClient,
            ["Portal:Tenants:1:Idp:Entra:TokenEndpoint"] = new Uri(Emulator.BaseUrl, EntraDemo.TenantId + "/oauth2/v2.0/token").ToString(),
            ["Portal:Tenants:1:AgentSignIn:Authority"] = entraIssuer,
            ["Portal:Tenants:1:AgentSignIn:ClientId"] = EntraAgentClient,
            ["Portal:Tenants:1:AgentSignIn:ClientSecretSecret"] = Variable("ENTRAAGENT", entraAgentSecret),
            [$"Portal:Tenants:1:GroupTiers:{EntraDemo.Tier1GroupId}"] = "Tier 1",
            [$"Portal:Tenants:1:GroupTiers:{EntraDemo.Tier3GroupId}"] = "Tier 3",
            [$"Portal:Tenants:1:GroupTiers:{EntraDemo.Tier3Role}"] = "Tier 3",
            ["Portal:Tenants:1:StepUp:Authority"] = entraIssuer,
            ["Portal:Tenants:1:StepUp:ClientId"] = StepUpClient,
            ["Portal:Tenants:1:StepUp:ClientSecretSecret"] = stepUpSecretRef,
            ["Portal:Tenants:1:StepUp:RequiredAcrs:0"] = "c1",
        };
        if (EnableEntraPush)
        {
            settings["Portal:Tenants:1:Idp:Entra:PushConnector:Enabled"] = "true";
            settings["Portal:Tenants:1:Idp:Entra:PushConnector:ClientSecretSecret"] = Variable("MFACONNECTOR", mfaConnectorSecret);
            settings["Portal:Tenants:1:Idp:Entra:PushConnector:TokenEndpoint"] = new Uri(Emulator.BaseUrl, EntraDemo.TenantId + "/oauth2/token").ToString();
            settings["Portal:Tenants:1:Idp:Entra:PushConnector:ConnectorEndpoint"] = new Uri(Emulator.BaseUrl, "StrongAuthenticationService.svc/Connector//BeginTwoWayAuthentication").ToString();
        }

        foreach (var (key, value) in ExtraSettings?.Invoke(Emulator) ?? [])
        {
            settings[key] = value;
        }

        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Development");
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }

            builder.ConfigureLogging(logging => logging.AddProvider(new CapturingLoggerProvider(LogLines)).SetMinimumLevel(LogLevel.Debug));
            builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Clock));
        });
        _ = Factory.Server;
        _started = true;
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (_started)
            {
                var tenants = Factory.Services.GetRequiredService<ITenantCatalog>().All.Select(t => t.Id).ToList();
                await PiiScan.AssertCleanAsync(Store, tenants, _directory, LogLines, Emulator.State);
            }
        }
        finally
        {
            await ReleaseAsync();
        }
    }

    private async Task ReleaseAsync()
    {
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        if (_emulator is not null)
        {
            await _emulator.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // SQLite may still hold the file for a moment; the temp folder is cleaned by the OS.
        }
    }

    public HttpClient NewClient() => Factory.CreateClient(new WebApplicationFactoryClientOptions
    {
        AllowAutoRedirect = false,
        BaseAddress = new Uri("https://localhost"),
        HandleCookies = true,
    });

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
        var form = FormPattern().Matches(callerPage).First(m => m.Groups[1].Value == "/verification/stepup").Value;
        var response = await PortalTestHost.PostFormAsync(browser, "/verification/stepup", PortalTestHost.FormToken(form),
            ("callerRef", PortalTestHost.HiddenValue(form, "callerRef")), ("factorId", PortalTestHost.HiddenValue(form, "factorId")));

        // Post/Redirect/Get: the step-up's page is a GET, and the link and code come with it from the agent's own cookie.
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        var page = await GetPageAsync(browser, response.Headers.Location!.OriginalString);
        var link = new Uri(WebUtility.HtmlDecode(Field(page, "stepup-link")));
        var pendingId = PollUrlPattern().Match(page).Groups[1].Value;
        return ($"/verification/pending/{pendingId}", link, Field(page, "stepup-code"));
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
        var challenge = await client.GetAsync($"/account/signin/{tenantId}");
        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
        var authorize = challenge.Headers.Location!;
        Assert.StartsWith(authorizePrefix, authorize.ToString(), StringComparison.Ordinal);
        var form = QueryHelpers.ParseQuery(authorize.Query).ToDictionary(p => p.Key, p => p.Value.ToString());
        form["agent"] = agentId;
        using var browserAtIdp = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var picked = await browserAtIdp.PostAsync(new Uri(authorize.GetLeftPart(UriPartial.Path)), new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.Redirect, picked.StatusCode);
        var signedIn = await client.GetAsync(picked.Headers.Location!.PathAndQuery);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.DoesNotContain("failed", signedIn.Headers.Location!.ToString(), StringComparison.Ordinal);
        return client;
    }

    [GeneratedRegex("<form method=\"post\" action=\"([^\"]+)\"[^>]*>.*?</form>", RegexOptions.Singleline)]
    private static partial Regex FormPattern();

    [GeneratedRegex("<meta http-equiv=\"refresh\" content=\"0;url=([^\"]+)\"")]
    private static partial Regex MetaRefreshPattern();

    [GeneratedRegex("data-poll-url=\"/verification/pending/([0-9a-f]+)/poll\"")]
    private static partial Regex PollUrlPattern();

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">")]
    private static partial Regex HiddenPattern();

    private sealed class CapturingLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, lines);

        public void Dispose()
        {
        }
    }

    private sealed class CapturingLogger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category} {formatter(state, exception)} {exception}");
    }
}
