using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.Tokens;

namespace Portal.Web.Tests;

/// <summary>
/// Agent sign-in against an OpenID Provider this project did not write (panva's oidc-provider, OpenID Certified;
/// tests/IndependentOp), so that the portal is held to the protocol, not to its own emulator: discovery, pushed
/// authorization requests, PKCE, <c>private_key_jwt</c> at the PAR and token endpoints, an ID token that carries no
/// e-mail or groups (the OP gives them at userinfo only), and RP-initiated logout that really ends the OP's session.
/// </summary>
public sealed partial class IndependentOpSignInTests : IAsyncLifetime
{
    private const string AgentEmail = "independent.agent@demo.example";
    private const string ClientId = "portal-independent-op";
    private const string KeyId = "portal-agent-signin-1";

    private readonly RSA _clientKey = RSA.Create(2048);
    private IndependentOp _op = null!;
    private PortalTestHost _host = null!;

    public async Task InitializeAsync()
    {
        var publicJwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(RSA.Create(_clientKey.ExportParameters(false))));
        var jwks = JsonSerializer.Serialize(new { keys = new[] { new { kty = "RSA", n = publicJwk.N, e = publicJwk.E, kid = KeyId, use = "sig", alg = "RS256" } } });
        _op = await IndependentOp.StartAsync(new Dictionary<string, string>
        {
            ["OP_CLIENT_ID"] = ClientId,
            ["OP_CLIENT_JWKS"] = jwks,
            ["OP_REDIRECT_URI"] = $"https://localhost/signin-oidc/{PortalTestHost.TenantId}",
            ["OP_POST_LOGOUT_URI"] = $"https://localhost/signout-callback-oidc/{PortalTestHost.TenantId}",
            ["OP_AGENT_EMAIL"] = AgentEmail,
            ["OP_AGENT_GROUPS"] = "[\"Helpdesk Tier 3\"]",
        });

        var pemFile = Path.Combine(Path.GetTempPath(), "portal-independent-op-key-" + Guid.NewGuid().ToString("N") + ".pem");
        await File.WriteAllTextAsync(pemFile, _clientKey.ExportPkcs8PrivateKeyPem());
        _host = new PortalTestHost();
        _host.Settings["Portal:Tenants:0:AgentSignIn:Authority"] = _op.Issuer.ToString().TrimEnd('/');
        _host.Settings["Portal:Tenants:0:AgentSignIn:ClientId"] = ClientId;
        _host.Settings["Portal:Tenants:0:AgentSignIn:ClientSecretSecret"] = "";
        _host.Settings["Portal:Tenants:0:AgentSignIn:ClientAssertionKeySecret"] = "file:" + pemFile;
        _host.Settings["Portal:Tenants:0:AgentSignIn:ClientAssertionKeyId"] = KeyId;
        await _host.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _op.DisposeAsync();
        _clientKey.Dispose();
    }

    [Fact]
    public async Task SignIn_ParAndPrivateKeyJwt_EmailAndGroupsFromUserInfo_AgentGetsTheirTier()
    {
        var portal = _host.NewClient();
        using var browserAtOp = IndependentOp.Browser();

        var challenge = await portal.GetAsync($"/account/signin/{PortalTestHost.TenantId}");

        // The OP advertises PAR: the portal pushed the request (authenticated with its signed assertion) and sends
        // the browser with a request_uri only.
        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
        var authorize = challenge.Headers.Location!;
        Assert.StartsWith(_op.Issuer + "auth?", authorize.ToString(), StringComparison.Ordinal);
        var query = QueryHelpers.ParseQuery(authorize.Query);
        Assert.StartsWith("urn:ietf:params:oauth:request_uri:", query["request_uri"].ToString(), StringComparison.Ordinal);
        Assert.Equal(ClientId, query["client_id"].ToString());

        var callback = await _op.AuthorizeAsync(browserAtOp, authorize);
        Assert.Equal($"/signin-oidc/{PortalTestHost.TenantId}", callback.AbsolutePath);
        var signedIn = await portal.GetAsync(callback.PathAndQuery);

        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/", signedIn.Headers.Location?.OriginalString);
        var console = await portal.GetStringAsync("/console");
        Assert.Contains("Tier 3", console, StringComparison.Ordinal);
        var signIn = Assert.Single(await Security.SecurityTestKit.AuditAsync(_host), d => (string?)d["action"] == "agent.signin");
        Assert.Equal("succeeded", ((string?)signIn["outcome"])?.ToLowerInvariant());
        Assert.Equal(Portal.Audit.PiiMask.Email(AgentEmail), (string?)signIn["agent"]?["maskedLogin"]);
        Assert.Equal(1, await _op.LoginsAsync());
    }

    [Fact]
    public async Task SignOut_EndsTheSessionAtTheOp_SoTheNextSignInAsksTheAgentToSignInThereAgain()
    {
        using var browserAtOp = IndependentOp.Browser();
        var portal = await SignInAsync(browserAtOp);

        // While the OP's session lives, a new portal sign-in is answered without asking the agent anything.
        await SignInAsync(browserAtOp);
        Assert.Equal(1, await _op.LoginsAsync());

        var signOut = await PortalTestHost.PostFormAsync(portal, "/account/signout", PortalTestHost.FormToken(await portal.GetStringAsync("/console")));
        var link = SignOutLink().Match(await signOut.Content.ReadAsStringAsync());
        Assert.True(link.Success, "the signing-out page links to the OP's end_session_endpoint");
        var endSession = new Uri(WebUtility.HtmlDecode(link.Groups[1].Value));
        Assert.StartsWith(_op.Issuer + "session/end?", endSession.ToString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(QueryHelpers.ParseQuery(endSession.Query)["id_token_hint"]));

        var back = await _op.EndSessionAsync(browserAtOp, endSession);
        Assert.Equal($"/signout-callback-oidc/{PortalTestHost.TenantId}", back.AbsolutePath);
        var landed = await portal.GetAsync(back.PathAndQuery);
        Assert.Equal("/account/signin?signedout=1", landed.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, (await portal.GetAsync("/console")).StatusCode);

        await SignInAsync(browserAtOp);
        Assert.Equal(2, await _op.LoginsAsync());
    }

    private async Task<HttpClient> SignInAsync(HttpClient browserAtOp)
    {
        var portal = _host.NewClient();
        var challenge = await portal.GetAsync($"/account/signin/{PortalTestHost.TenantId}");
        var callback = await _op.AuthorizeAsync(browserAtOp, challenge.Headers.Location!);
        var signedIn = await portal.GetAsync(callback.PathAndQuery);
        Assert.Equal("/", signedIn.Headers.Location?.OriginalString);
        return portal;
    }

    [GeneratedRegex("href=\"([^\"]+)\" data-field=\"signout-continue\"")]
    private static partial Regex SignOutLink();

    /// <summary>tests/IndependentOp/server.mjs in its own Node.js process on a free loopback port.</summary>
    private sealed partial class IndependentOp : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        private IndependentOp(Process process, Uri issuer)
        {
            _process = process;
            Issuer = issuer;
        }

        /// <summary>The issuer, with a trailing slash.</summary>
        public Uri Issuer { get; }

        /// <summary>The agent's browser at the OP: its own cookies, redirects followed by hand.</summary>
        public static HttpClient Browser() => new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() });

        public static async Task<IndependentOp> StartAsync(IReadOnlyDictionary<string, string> settings)
        {
            var directory = Path.Combine(RepositoryRoot(), "tests", "IndependentOp");
            if (!Directory.Exists(Path.Combine(directory, "node_modules", "oidc-provider")))
            {
                throw new InvalidOperationException($"oidc-provider is not installed: run 'npm ci --ignore-scripts' in {directory} (test.sh does).");
            }

            var port = FreePort();
            var start = new ProcessStartInfo("node", "server.mjs")
            {
                WorkingDirectory = directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                Environment = { ["OP_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            };
            foreach (var (name, value) in settings)
            {
                start.Environment[name] = value;
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
            var op = new IndependentOp(process, new Uri($"http://127.0.0.1:{port}/"));
            var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            process.OutputDataReceived += (_, e) =>
            {
                op.Append(e.Data);
                if (e.Data?.StartsWith("independent OP listening", StringComparison.Ordinal) == true)
                {
                    listening.TrySetResult();
                }
            };
            process.ErrorDataReceived += (_, e) => op.Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (await Task.WhenAny(listening.Task, Task.Delay(TimeSpan.FromSeconds(60))) != listening.Task)
            {
                await op.DisposeAsync();
                throw new InvalidOperationException("The independent OP did not start within 60 s. Its output:\n" + op.Output());
            }

            return op;
        }

        /// <summary>Follows the OP's redirects (sign-in and consent interactions included) until it sends the browser back to the portal.</summary>
        public async Task<Uri> AuthorizeAsync(HttpClient browser, Uri authorize)
        {
            var next = authorize;
            for (var hop = 0; hop < 10; hop++)
            {
                var answer = await browser.GetAsync(next);
                var location = answer.Headers.Location;
                Assert.True(location is not null, $"the OP answered {(int)answer.StatusCode} at {next.AbsolutePath}: {await answer.Content.ReadAsStringAsync()}\n{Output()}");
                next = location.IsAbsoluteUri ? location : new Uri(next, location);
                if (next.Authority != Issuer.Authority)
                {
                    Assert.Null(QueryHelpers.ParseQuery(next.Query).GetValueOrDefault("error").ToString() is { Length: > 0 } error ? error : null);
                    return next;
                }
            }

            throw new InvalidOperationException("The OP redirected more than ten times.");
        }

        /// <summary>Answers the OP's "Do you want to sign out?" page with yes; returns where the OP sends the browser.</summary>
        public async Task<Uri> EndSessionAsync(HttpClient browser, Uri endSession)
        {
            var page = await browser.GetStringAsync(endSession);
            var form = LogoutForm().Match(page);
            Assert.True(form.Success, "the OP asks whether to sign out: " + page);
            var fields = HiddenInput().Matches(form.Groups["body"].Value).ToDictionary(m => WebUtility.HtmlDecode(m.Groups["name"].Value), m => WebUtility.HtmlDecode(m.Groups["value"].Value));
            fields["logout"] = "yes";
            var confirmed = await browser.PostAsync(new Uri(endSession, WebUtility.HtmlDecode(form.Groups["action"].Value)), new FormUrlEncodedContent(fields));
            Assert.True(confirmed.Headers.Location is not null, $"the OP answered {(int)confirmed.StatusCode} to the sign-out: {await confirmed.Content.ReadAsStringAsync()}");
            return confirmed.Headers.Location;
        }

        /// <summary>How many times the agent had to sign in at the OP (not counting sign-ins its session answered).</summary>
        public async Task<int> LoginsAsync()
        {
            using var http = new HttpClient();
            return int.Parse(await http.GetStringAsync(new Uri(Issuer, "test/logins")), System.Globalization.CultureInfo.InvariantCulture);
        }

        public ValueTask DisposeAsync()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
                // It has already gone.
            }

            _process.Dispose();
            return ValueTask.CompletedTask;
        }

        private void Append(string? line)
        {
            if (line is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(line);
                }
            }
        }

        private string Output()
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        private static string RepositoryRoot()
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Portal.sln")))
            {
                directory = directory.Parent;
            }

            return directory?.FullName ?? throw new InvalidOperationException("Portal.sln not found above " + AppContext.BaseDirectory);
        }

        [GeneratedRegex("<form id=\"op.logoutForm\"[^>]*action=\"(?<action>[^\"]+)\"[^>]*>(?<body>.*?)</form>", RegexOptions.Singleline)]
        private static partial Regex LogoutForm();

        [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]+)\" value=\"(?<value>[^\"]*)\"")]
        private static partial Regex HiddenInput();
    }
}
