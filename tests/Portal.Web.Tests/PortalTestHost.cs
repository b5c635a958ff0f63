using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
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
/// The portal in a test host, wired over real HTTP on loopback to a real IdP emulator, on its own SQLite
/// file, with a controllable clock and every log line captured (for the PII scan).
/// </summary>
public sealed partial class PortalTestHost : IAsyncLifetime
{
    public const string TenantId = "demo-okta";

    /// <summary>A second organisation on the same emulator (another client id), present when <see cref="WithSecondTenant"/> is set.</summary>
    public const string SecondTenantId = "other-okta";
    private const string ClientId = "portal-test";
    private const string SecondClientId = "portal-test-other";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "portal-web-tests-" + Guid.NewGuid().ToString("N"));
    private readonly string _variableSuffix;
    private readonly PortalTestHost? _twin;
    private WebApplicationFactory<Program>? _factory;
    private bool _started;
    private EmulatorHost? _emulator;

    /// <summary>A portal with its own emulator, keys and store.</summary>
    public PortalTestHost()
    {
        _variableSuffix = Guid.NewGuid().ToString("N").ToUpperInvariant();
        Clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
    }

    /// <summary>
    /// A second instance of the same deployment as <paramref name="twin"/>: the same IdP emulator, secrets,
    /// keys and clock (start it after the twin). Give both the same shared store through <see cref="Settings"/>.
    /// </summary>
    public PortalTestHost(PortalTestHost twin)
    {
        _twin = twin;
        _variableSuffix = twin._variableSuffix;
        Clock = twin.Clock;
    }

    public string DataDirectory => _directory;

    /// <summary>Only for the tests of the PII scan itself: they plant leaks, so the shutdown scan is not run.</summary>
    public bool PlantsLeaksOnPurpose { get; init; }

    public FakeTimeProvider Clock { get; }

    public ConcurrentQueue<string> LogLines { get; } = new();

    public EmulatorHost Emulator => _emulator ?? throw new InvalidOperationException("Not started.");

    public WebApplicationFactory<Program> Factory => _factory ?? throw new InvalidOperationException("Not started.");

    public IDocumentStore Store => Factory.Services.GetRequiredService<IDocumentStore>();

    /// <summary>Extra settings a test class needs (applied over the defaults).</summary>
    public Dictionary<string, string?> Settings { get; } = [];

    /// <summary>How long the emulator's pushes wait (its default, Okta's five minutes, when null).</summary>
    public TimeSpan? EmulatorPushLifetime { get; set; }

    /// <summary>The host environment (Development unless a test is about production behaviour).</summary>
    public string EnvironmentName { get; set; } = "Development";

    /// <summary>The public key the emulator accepts client assertions of <see cref="TenantId"/>'s client with (private_key_jwt).</summary>
    public Microsoft.IdentityModel.Tokens.SecurityKey? ClientAssertionKey { get; init; }

    /// <summary>Configures <see cref="SecondTenantId"/> as well (set before <see cref="InitializeAsync"/>).</summary>
    public bool WithSecondTenant { get; set; }

    /// <summary>Changes to the portal's services after its own registrations (e.g. a decorator around the store).</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        var tokenVariable = "PORTAL_TEST_OKTA_TOKEN_" + _variableSuffix;
        var secretVariable = "PORTAL_TEST_CLIENT_SECRET_" + _variableSuffix;
        var keyDirectory = _twin?.DataDirectory ?? _directory;
        var keyFile = Path.Combine(keyDirectory, "pseudonymisation.key");
        var keyRingFile = Path.Combine(keyDirectory, "keyring.key");
        if (_twin is not null)
        {
            _emulator = _twin.Emulator;
        }
        else
        {
            var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
            var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
            // The emulator runs on the portal's clock: push expiry, TOTP windows and token lifetimes move together.
            var emulatorOptions = new EmulatorOptions { OktaApiToken = token, TimeProvider = Clock };
            if (EmulatorPushLifetime is { } pushLifetime)
            {
                emulatorOptions.PushLifetime = pushLifetime;
            }

            emulatorOptions.Clients.Add(new EmulatorClient(ClientId, secret) { AssertionKey = ClientAssertionKey });
            if (WithSecondTenant)
            {
                emulatorOptions.Clients.Add(new EmulatorClient(SecondClientId, secret));
            }

            _emulator = await EmulatorHost.StartAsync(emulatorOptions);
            Environment.SetEnvironmentVariable(tokenVariable, token);
            Environment.SetEnvironmentVariable(secretVariable, secret);
            await File.WriteAllTextAsync(keyFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            await File.WriteAllTextAsync(keyRingFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        }

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
            ["Portal:Tenants:0:Id"] = TenantId,
            ["Portal:Tenants:0:Idp:BaseUrl"] = Emulator.BaseUrl.ToString(),
            ["Portal:Tenants:0:Idp:ApiTokenSecret"] = "env:" + tokenVariable,
            ["Portal:Tenants:0:AgentSignIn:Authority"] = Emulator.OktaIssuer.ToString(),
            ["Portal:Tenants:0:AgentSignIn:ClientId"] = ClientId,
            ["Portal:Tenants:0:AgentSignIn:ClientSecretSecret"] = "env:" + secretVariable,
        };
        if (WithSecondTenant)
        {
            settings["Portal:Tenants:1:Id"] = SecondTenantId;
            settings["Portal:Tenants:1:DisplayName"] = "Other Org";
            settings["Portal:Tenants:1:EmailDomains:0"] = "other.example";
            settings["Portal:Tenants:1:Idp:BaseUrl"] = Emulator.BaseUrl.ToString();
            settings["Portal:Tenants:1:Idp:ApiTokenSecret"] = "env:" + tokenVariable;
            settings["Portal:Tenants:1:AgentSignIn:Authority"] = Emulator.OktaIssuer.ToString();
            settings["Portal:Tenants:1:AgentSignIn:ClientId"] = SecondClientId;
            settings["Portal:Tenants:1:AgentSignIn:ClientSecretSecret"] = "env:" + secretVariable;
            settings["Portal:Tenants:1:GroupTiers:Helpdesk Tier 3"] = "Tier 3";
            settings["Portal:Tenants:1:GroupTiers:Helpdesk Auditors"] = "Auditor";
            settings["Portal:Tenants:1:GroupTiers:Helpdesk Admins"] = "Tenant admin";
        }

        foreach (var (key, value) in Settings)
        {
            settings[key] = value;
        }

        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment(EnvironmentName);
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }

            builder.ConfigureLogging(logging => logging.AddProvider(new CapturingLoggerProvider(LogLines)).SetMinimumLevel(LogLevel.Debug));
            builder.ConfigureTestServices(services =>
            {
                services.AddSingleton<TimeProvider>(Clock);
                ConfigureServices?.Invoke(services);
            });
        });
        _ = Factory.Server;
        _started = true;
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (_started && !PlantsLeaksOnPurpose)
            {
                var tenants = Factory.Services.GetRequiredService<ITenantCatalog>().All.Select(t => t.Id).ToList();
                await PiiScan.AssertCleanAsync(Store, tenants, _directory, LogLines, Emulator.State, FirestoreUnderScan());
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

        if (_emulator is not null && _twin is null)
        {
            await _emulator.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // SQLite may still hold the file for a moment on some systems; the temp folder is cleaned by the OS.
        }
    }

    public HttpClient NewClient() => Factory.CreateClient(new WebApplicationFactoryClientOptions
    {
        AllowAutoRedirect = false,
        BaseAddress = new Uri("https://localhost"),
        HandleCookies = true,
    });

    /// <summary>A browser whose cookies live in <paramref name="cookies"/>: share the jar between two instances to be one agent on both.</summary>
    public HttpClient NewClient(CookieContainer cookies) =>
        Factory.CreateDefaultClient(new Uri("https://localhost"), new Microsoft.AspNetCore.Mvc.Testing.Handlers.CookieContainerHandler(cookies));

    /// <summary>Keeps every record in the Firestore emulator, in a project of its own (share it with a twin for one deployment on two instances).</summary>
    public PortalTestHost UseFirestore(string emulatorHost, string projectId)
    {
        Settings["Portal:Storage:Provider"] = "Firestore";
        Settings["Portal:Storage:Firestore:ProjectId"] = projectId;
        Settings["Portal:Storage:Firestore:EmulatorHost"] = emulatorHost;
        return this;
    }

    /// <summary>The Firestore emulator and project this host keeps its records in, for the PII scan; null on SQLite.</summary>
    public (string Host, string ProjectId)? FirestoreUnderScan() =>
        Settings.GetValueOrDefault("Portal:Storage:Provider") == "Firestore"
        && Settings.GetValueOrDefault("Portal:Storage:Firestore:EmulatorHost") is { } host
        && Settings.GetValueOrDefault("Portal:Storage:Firestore:ProjectId") is { } project
            ? (host, project)
            : null;

    /// <summary>Signs an emulator demo agent in through the real OIDC code flow (with PKCE) and returns their browser.</summary>
    public Task<HttpClient> SignInAsync(string agentEmail, HttpClient? browser = null) => SignInToAsync(TenantId, agentEmail, browser);

    /// <summary>Signs an emulator demo agent in to <paramref name="tenantId"/> and returns their browser.</summary>
    public async Task<HttpClient> SignInToAsync(string tenantId, string agentEmail, HttpClient? browser = null)
    {
        var client = browser ?? NewClient();
        var signedIn = await SignInCallbackAsync(tenantId, agentEmail, client);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        return client;
    }

    /// <summary>Runs the OIDC code flow up to the portal's sign-in callback and returns the portal's answer to it.</summary>
    public async Task<HttpResponseMessage> SignInCallbackAsync(string tenantId, string agentEmail, HttpClient client, Func<string, string>? rewriteCallbackPath = null)
    {
        var challenge = await client.GetAsync($"/account/signin/{tenantId}");
        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
        var authorize = challenge.Headers.Location!;
        Assert.StartsWith(Emulator.OktaIssuer.ToString(), authorize.ToString(), StringComparison.Ordinal);

        var agent = Emulator.State.Agents.Single(a => a.Email == agentEmail);
        var form = QueryHelpers.ParseQuery(authorize.Query).ToDictionary(p => p.Key, p => p.Value.ToString());
        form["agent"] = agent.Subject;
        using var browserAtIdp = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var picked = await browserAtIdp.PostAsync(new Uri(authorize.GetLeftPart(UriPartial.Path)), new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.Redirect, picked.StatusCode);
        var callback = picked.Headers.Location!;
        Assert.Equal("localhost", callback.Host);

        Assert.Equal($"/signin-oidc/{tenantId}", callback.AbsolutePath);
        return await client.GetAsync((rewriteCallbackPath ?? (p => p))(callback.AbsolutePath) + callback.Query);
    }

    /// <summary>The antiforgery token of the first form on a page.</summary>
    public static string FormToken(string html)
    {
        var match = TokenPattern().Match(html);
        Assert.True(match.Success, "The page has no antiforgery token.");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    public static string HiddenValue(string html, string name)
    {
        var match = new Regex($"name=\"{Regex.Escape(name)}\" value=\"([^\"]*)\"").Match(html);
        Assert.True(match.Success, $"The page has no hidden field {name}.");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    public static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string path, string token, params (string Name, string Value)[] fields)
    {
        var values = fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)).Append(new("__RequestVerificationToken", token));
        return await client.PostAsync(path, new FormUrlEncodedContent(values));
    }

    /// <summary>
    /// Follows a POST's Post/Redirect/Get as a browser does: a 303 must lead to a page under <paramref name="expectedPrefix"/>,
    /// which is returned. Any other answer (refused before the page ran: permission, antiforgery, rate limit) is returned as is.
    /// </summary>
    public static async Task<HttpResponseMessage> FollowSeeOtherAsync(HttpClient client, HttpResponseMessage posted, string expectedPrefix)
    {
        if (posted.StatusCode != HttpStatusCode.SeeOther)
        {
            return posted;
        }

        var location = posted.Headers.Location?.OriginalString ?? "";
        Assert.StartsWith(expectedPrefix, location, StringComparison.Ordinal);
        return await client.GetAsync(location);
    }

    /// <summary>The one-time secret a result page shows (its blocks of four joined), or "" when it shows none.</summary>
    public static string SecretOn(string html)
    {
        var match = SecretPattern().Match(html);
        return match.Success ? WebUtility.HtmlDecode(Regex.Replace(match.Groups[1].Value, "<[^>]+>", "")) : "";
    }

    [GeneratedRegex("data-field=\"secret\"[^>]*>(.*?)</p>", RegexOptions.Singleline)]
    private static partial Regex SecretPattern();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

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
