using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Portal.Idp.Tests.Spec;

namespace Portal.IdpEmulator.Tests;

/// <summary>
/// Okta's System Log (<c>GET /api/v1/logs</c>) over real HTTP: who the emulator logs for an SSWS call, a service app
/// and an administrator at the console, and Okta's polling semantics. Every answer is checked against Okta's spec.
/// </summary>
public sealed class OktaSystemLogTests : IAsyncLifetime
{
    private const string Alice = "alice.caller@demo.example";
    private const string Bob = "bob.caller@demo.example";
    private const string Dave = "dave.caller@demo.example";
    private const string ServiceApp = "0oaportalservice0001";
    private const string ReadOnlyApp = "0oaportalreadonly001";

    private static readonly OpenApiSubsetValidator Spec = OpenApiSubsetValidator.Load(Path.Combine(AppContext.BaseDirectory, "specs", "okta-management-subset.json"));

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 9, 0, 0, TimeSpan.Zero));
    private readonly RSA _key = RSA.Create(2048);
    private EmulatorHost _host = null!;

    public async Task InitializeAsync()
    {
        var publicKey = RSA.Create();
        publicKey.ImportParameters(_key.ExportParameters(false));
        _host = await TestEmulator.StartAsync(_time, options =>
        {
            options.OktaServiceApps.Add(new EmulatorServiceApp(ServiceApp, publicKey, ["okta.users.manage", "okta.logs.read"]) { RequireDpop = false, Label = "Helpdesk Portal (test)" });
            options.OktaServiceApps.Add(new EmulatorServiceApp(ReadOnlyApp, publicKey, ["okta.users.read"]) { RequireDpop = false });
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _key.Dispose();
    }

    [Fact]
    public async Task IdentityVerification_PassAndFail_LoggedAsOktaDocumentsThem_TheUserAsActorAndTarget()
    {
        using var okta = Okta();
        _host.State.VerifyIdentity(Alice, passed: true);
        _host.State.VerifyIdentity(Bob, passed: false);
        _host.State.ActAsAdmin(AdminAction.ResetPassword, Dave, IdpSide.Okta);

        var (events, _) = await Get(okta, "logs?filter=" + Uri.EscapeDataString("eventType eq \"user.identity_verification\""));

        Assert.Equal(2, events.Count);
        var passed = events[0]!;
        Assert.Equal("user.identity_verification", Text(passed, "eventType"));
        Assert.Equal(("ALLOW", "CLAIMS_VERIFIED"), (Text(passed["outcome"]!, "result"), Text(passed["outcome"]!, "reason")));
        AssertActor(passed, "User", Id(Alice), Alice);
        Assert.Equal(Id(Alice), Text(passed["target"]!.AsArray().Single(t => Text(t!, "type") == "User")!, "id"));
        Assert.Null(passed["legacyEventType"]);
        var failed = events[1]!;
        Assert.Equal(("DENY", "CLAIMS_NOT_VERIFIED"), (Text(failed["outcome"]!, "result"), Text(failed["outcome"]!, "reason")));
        AssertActor(failed, "User", Id(Bob), Bob);
    }

    [Fact]
    public async Task IdentityVerification_ActorAndTargetApart_AnotherOutcome_WhereAndOnWhat_AllValidAgainstOktasSpec()
    {
        using var okta = Okta();
        _host.State.RecordIdentityVerification(Alice, "ALLOW", "CLAIMS_VERIFIED", IdentityVerificationParties.UserActorOnly);
        _host.State.RecordIdentityVerification(Bob, "DENY", "CLAIMS_NOT_VERIFIED", IdentityVerificationParties.UserTargetOnly, city: null, country: null);
        _host.State.RecordIdentityVerification(Dave, "FAILURE", null, city: "Lagos", country: "Nigeria");

        // Each answer passes through the spec check of this class's handler.
        var (events, _) = await Get(okta, "logs?filter=" + Uri.EscapeDataString("eventType eq \"user.identity_verification\""));

        Assert.Equal(3, events.Count);
        var actorOnly = events[0]!;
        AssertActor(actorOnly, "User", Id(Alice), Alice);
        Assert.DoesNotContain(actorOnly["target"]!.AsArray(), t => Text(t!, "type") == "User");
        Assert.Equal("IdentityProvider", Text(actorOnly["target"]![0]!, "type"));
        Assert.Equal(("iOS 17.5", "SAFARI"), (Text(actorOnly["client"]!["userAgent"]!, "os"), Text(actorOnly["client"]!["userAgent"]!, "browser")));
        Assert.Equal(("Springfield", "United States"), (Text(actorOnly["client"]!["geographicalContext"]!, "city"), Text(actorOnly["client"]!["geographicalContext"]!, "country")));

        var targetOnly = events[1]!;
        AssertActor(targetOnly, "SystemPrincipal", EmulatorAdmins.OktaSystemPrincipalId, EmulatorAdmins.OktaSystemPrincipalLogin);
        Assert.Equal(Id(Bob), Text(targetOnly["target"]!.AsArray().Single(t => Text(t!, "type") == "User")!, "id"));
        Assert.Null(targetOnly["client"]!["geographicalContext"]);

        var other = events[2]!;
        Assert.Equal("FAILURE", Text(other["outcome"]!, "result"));
        Assert.Null(other["outcome"]!["reason"]);
        Assert.Equal("Nigeria", Text(other["client"]!["geographicalContext"]!, "country"));

        // Okta's filters find the user where the event names them.
        Assert.Single((await Get(okta, "logs?filter=" + Uri.EscapeDataString($"target.id eq \"{Id(Bob)}\""))).Events);
        Assert.Empty((await Get(okta, "logs?filter=" + Uri.EscapeDataString($"target.id eq \"{Id(Alice)}\""))).Events);
    }

    [Fact]
    public async Task ApiResetAndAdminReset_BothLogged_TheApiOneWithTheTokensIdTheOtherAsTheAdminAtTheConsole()
    {
        using var okta = Okta();
        using var reset = await okta.PostAsync($"users/{Id(Alice)}/lifecycle/reset_password?sendEmail=false", null);
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        _time.Advance(TimeSpan.FromMinutes(3));
        _host.State.ActAsAdmin(AdminAction.ResetPassword, Bob, IdpSide.Okta);

        var (events, _) = await Get(okta, "logs");

        Assert.Equal(2, events.Count);
        var api = events[0]!;
        Assert.Equal("user.account.reset_password", Text(api, "eventType"));
        Assert.Equal("2026-11-30T09:00:00.000Z", Text(api, "published"));
        Assert.True(Guid.TryParse(Text(api, "uuid"), out _));
        Assert.Equal("0", Text(api, "version"));
        Assert.Equal("INFO", Text(api, "severity"));
        Assert.Equal("SUCCESS", api["outcome"]!["result"]!.GetValue<string>());
        AssertActor(api, "User", EmulatorAdmins.OktaApiTokenOwnerId, EmulatorAdmins.OktaApiTokenOwnerLogin);
        Assert.Equal(EmulatorAdmins.OktaSswsClientId, api["client"]!["id"]!.GetValue<string>());
        Assert.Equal("PortalTests/1.0", api["client"]!["userAgent"]!["rawUserAgent"]!.GetValue<string>());
        Assert.Equal("WEB", api["transaction"]!["type"]!.GetValue<string>());
        Assert.Equal(EmulatorAdmins.OktaApiTokenId, api["transaction"]!["detail"]!["requestApiTokenId"]!.GetValue<string>());
        var target = Assert.Single(api["target"]!.AsArray())!;
        Assert.Equal(Id(Alice), Text(target, "id"));
        Assert.Equal("User", Text(target, "type"));
        Assert.Equal(Alice, Text(target, "alternateId"));
        Assert.Equal("Alice Caller", Text(target, "displayName"));

        var console = events[1]!;
        Assert.Equal("user.account.reset_password", Text(console, "eventType"));
        Assert.Equal("2026-11-30T09:03:00.000Z", Text(console, "published"));
        AssertActor(console, "User", EmulatorAdmins.OktaAdminId, EmulatorAdmins.OktaAdminLogin);
        Assert.Equal(EmulatorAdmins.OktaAdminConsoleClientId, console["client"]!["id"]!.GetValue<string>());
        Assert.Null(console["transaction"]!["detail"]!["requestApiTokenId"]);
        Assert.Equal(Id(Bob), Text(console["target"]![0]!, "id"));
        Assert.NotEqual(Text(api["transaction"]!, "id"), Text(console["transaction"]!, "id"));
        Assert.Equal("RECOVERY", _host.State.FindCaller(Bob)!.Status);
    }

    [Fact]
    public async Task EveryApiAction_LoggedWithOktasEventType_TacWithItsEnrollmentAsASecondTarget()
    {
        using var okta = Okta();
        var alice = Id(Alice);
        await Succeeds(okta.PostAsync($"users/{alice}/lifecycle/expire_password_with_temp_password", null));
        await Succeeds(okta.PostAsync($"users/{alice}/lifecycle/reset_factors", null));
        await Succeeds(okta.PostAsync($"users/{Id(Dave)}/lifecycle/unlock", null));
        await Succeeds(okta.DeleteAsync($"users/{alice}/sessions"));
        using var tac = await okta.PostAsync($"users/{Id(Bob)}/authenticator-enrollments/tac", TestEmulator.JsonBody("{\"authenticatorId\":\"" + EmulatorState.TacAuthenticatorId + "\",\"profile\":{\"ttl\":\"60\"}}"));
        Assert.Equal(HttpStatusCode.OK, tac.StatusCode);
        var enrollment = (await TestEmulator.ReadJson(tac))["id"]!.GetValue<string>();

        var (events, _) = await Get(okta, "logs");

        Assert.Equal(
            ["user.account.expire_password", "user.mfa.factor.reset_all", "user.account.unlock_by_admin", "user.session.clear", "user.mfa.factor.activate"],
            events.Select(e => Text(e!, "eventType")));
        var targets = events[^1]!["target"]!.AsArray();
        Assert.Equal(Id(Bob), Text(targets.Single(t => Text(t!, "type") == "User")!, "id"));
        var tacTarget = targets.Single(t => Text(t!, "type") == "AuthenticatorEnrollment")!;
        Assert.Equal(enrollment, Text(tacTarget, "id"));
        Assert.Equal("Temporary Access Code", Text(tacTarget, "displayName"));
    }

    [Fact]
    public async Task RefusedAction_NotLogged()
    {
        using var okta = Okta();
        _host.State.SetStatus(Alice, "STAGED");

        using var refused = await okta.PostAsync($"users/{Id(Alice)}/lifecycle/unlock", null);
        using var unknown = await okta.DeleteAsync("users/00uNOSUCHUSER0000000/sessions");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Empty(_host.State.AdminActivities);
        Assert.Throws<InvalidOperationException>(() => _host.State.ActAsAdmin(AdminAction.Unlock, Alice, IdpSide.Okta));
        Assert.Empty((await Get(okta, "logs")).Events);
    }

    [Fact]
    public async Task Polling_NextAlwaysPresent_FollowingItReturnsOnlyNewerEvents_AnEmptyPageStillHasNext()
    {
        using var okta = Okta();
        _host.State.ActAsAdmin(AdminAction.ClearSessions, Alice, IdpSide.Okta);

        var first = await Get(okta, "logs?since=" + Uri.EscapeDataString("2026-11-30T08:00:00Z"));
        var caughtUp = await Get(okta, first.Next!);
        _time.Advance(TimeSpan.FromMinutes(1));
        _host.State.ActAsAdmin(AdminAction.Unlock, Dave, IdpSide.Okta);
        var newer = await Get(okta, caughtUp.Next!);
        var empty = await Get(okta, newer.Next!);

        Assert.Equal(["user.session.clear"], first.Events.Select(e => Text(e!, "eventType")));
        Assert.Empty(caughtUp.Events);
        Assert.NotNull(caughtUp.Next);
        Assert.Equal(["user.account.unlock_by_admin"], newer.Events.Select(e => Text(e!, "eventType")));
        Assert.Empty(empty.Events);
        Assert.NotNull(empty.Next);
        Assert.StartsWith(new Uri(_host.BaseUrl, "api/v1/logs?").AbsoluteUri, first.Next, StringComparison.Ordinal);
        Assert.Contains("after=", first.Next, StringComparison.Ordinal);
        Assert.DoesNotContain("since=", first.Next, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Polling_EventsOlderThanSince_LeftOut_DefaultWindowIsSevenDays()
    {
        using var okta = Okta();
        _host.State.ActAsAdmin(AdminAction.ClearSessions, Alice, IdpSide.Okta);
        _time.Advance(TimeSpan.FromDays(8));
        _host.State.ActAsAdmin(AdminAction.ClearSessions, Bob, IdpSide.Okta);

        var byDefault = await Get(okta, "logs");
        var since = await Get(okta, "logs?since=" + Uri.EscapeDataString("2026-11-30T09:00:00.000Z"));

        Assert.Equal([Id(Bob)], byDefault.Events.Select(e => Text(e!["target"]![0]!, "id")));
        Assert.Equal(2, since.Events.Count);
    }

    [Fact]
    public async Task LimitTwo_FiveEvents_PagesOfTwoTwoOne_ThenAnEmptyPollingPage()
    {
        using var okta = Okta();
        var logins = new[] { Alice, Bob, Dave, "carol.caller@demo.example", "erin.admin@demo.example" };
        foreach (var login in logins)
        {
            _host.State.ActAsAdmin(AdminAction.ClearSessions, login, IdpSide.Okta);
            _time.Advance(TimeSpan.FromSeconds(10));
        }

        var seen = new List<string>();
        var sizes = new List<int>();
        var page = await Get(okta, "logs?limit=2");
        while (page.Events.Count > 0)
        {
            sizes.Add(page.Events.Count);
            seen.AddRange(page.Events.Select(e => Text(e!["target"]![0]!, "alternateId")));
            Assert.Contains("limit=2", page.Next, StringComparison.Ordinal);
            page = await Get(okta, page.Next!);
        }

        Assert.Equal([2, 2, 1], sizes);
        Assert.Equal(logins, seen);
        Assert.NotNull(page.Next);
    }

    [Fact]
    public async Task BoundedQuery_LastPageHasNoNext_DescendingIsNewestFirst()
    {
        using var okta = Okta();
        foreach (var login in new[] { Alice, Bob, Dave })
        {
            _host.State.ActAsAdmin(AdminAction.ClearSessions, login, IdpSide.Okta);
            _time.Advance(TimeSpan.FromSeconds(10));
        }

        var until = Uri.EscapeDataString("2026-11-30T10:00:00Z");
        var first = await Get(okta, "logs?limit=2&until=" + until);
        var last = await Get(okta, first.Next!);
        var descending = await Get(okta, "logs?sortOrder=DESCENDING");

        Assert.Equal(2, first.Events.Count);
        Assert.Single(last.Events);
        Assert.Null(last.Next);
        Assert.Equal([Dave, Bob, Alice], descending.Events.Select(e => Text(e!["target"]![0]!, "alternateId")));
        Assert.Null(descending.Next);
    }

    [Fact]
    public async Task Filter_EventTypesJoinedByOr_ReturnsOnlyThose()
    {
        using var okta = Okta();
        _host.State.ActAsAdmin(AdminAction.ClearSessions, Alice, IdpSide.Okta);
        _host.State.ActAsAdmin(AdminAction.Unlock, Dave, IdpSide.Okta);
        _host.State.ActAsAdmin(AdminAction.ResetMfa, Bob, IdpSide.Okta);

        var filter = "eventType eq \"user.mfa.factor.reset_all\" or eventType eq \"user.session.clear\"";
        var (events, next) = await Get(okta, "logs?filter=" + Uri.EscapeDataString(filter));

        Assert.Equal(["user.session.clear", "user.mfa.factor.reset_all"], events.Select(e => Text(e!, "eventType")));
        Assert.Contains("filter=", next, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("logs?limit=0", "E0000001")]
    [InlineData("logs?limit=1001", "E0000001")]
    [InlineData("logs?limit=ten", "E0000001")]
    [InlineData("logs?sortOrder=RANDOM", "E0000001")]
    [InlineData("logs?since=yesterday", "E0000001")]
    [InlineData("logs?since=2026-11-30T08%3A00%3A00Z&after=1764489600000_1", "E0000001")]
    [InlineData("logs?after=not-a-cursor", "E0000001")]
    [InlineData("logs?q=reset", "E0000001")]
    [InlineData("logs?filter=eventType%20sw%20%22user.%22", "E0000031")]
    [InlineData("logs?filter=eventType%20eq%20%22a%22%20and%20actor.id%20eq%20%22b%22", "E0000031")]
    [InlineData("logs?filter=published%20eq%20%22x%22", "E0000031")]
    public async Task BadQuery_Returns400LikeOkta(string query, string errorCode)
    {
        using var okta = Okta();

        using var response = await okta.GetAsync(query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(errorCode, (await TestEmulator.ReadJson(response))["errorCode"]!.GetValue<string>());
    }

    [Fact]
    public async Task ServiceApp_ActionLoggedAsThePublicClientApp_WithItsClientIdAndNoTokenId()
    {
        using var okta = await ServiceAppClient(ServiceApp, "okta.users.manage okta.logs.read");

        await Succeeds(okta.DeleteAsync($"users/{Id(Alice)}/sessions"));
        var (events, _) = await Get(okta, "logs");

        var cleared = Assert.Single(events)!;
        AssertActor(cleared, "PublicClientApp", ServiceApp, ServiceApp);
        Assert.Equal("Helpdesk Portal (test)", Text(cleared["actor"]!, "displayName"));
        Assert.Equal(ServiceApp, cleared["client"]!["id"]!.GetValue<string>());
        Assert.Null(cleared["transaction"]!["detail"]!["requestApiTokenId"]);
    }

    [Fact]
    public async Task ServiceApp_WithoutOktaLogsRead_Returns403InsufficientScope()
    {
        using var okta = await ServiceAppClient(ReadOnlyApp, "okta.users.read");

        using var users = await okta.GetAsync("users/" + Id(Alice));
        using var logs = await okta.GetAsync("logs");

        Assert.Equal(HttpStatusCode.OK, users.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, logs.StatusCode);
        Assert.Equal("E0000006", (await TestEmulator.ReadJson(logs))["errorCode"]!.GetValue<string>());
        Assert.Contains("insufficient_scope", logs.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal("okta.logs.read", OktaServiceApps.RequiredScope("GET", "/api/v1/logs"));
    }

    [Fact]
    public async Task WithoutToken_Returns401()
    {
        using var okta = Okta(token: null);

        using var response = await okta.GetAsync("logs");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private string Id(string login) => TestEmulator.IdOf(_host, login);

    private static string Text(JsonNode node, string name) => node[name]!.GetValue<string>();

    private static void AssertActor(JsonNode logEvent, string type, string id, string alternateId)
    {
        var actor = logEvent["actor"]!;
        Assert.Equal(type, Text(actor, "type"));
        Assert.Equal(id, Text(actor, "id"));
        Assert.Equal(alternateId, Text(actor, "alternateId"));
    }

    private static async Task Succeeds(Task<HttpResponseMessage> call)
    {
        using var response = await call;
        Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage!.RequestUri}: {(int)response.StatusCode}");
    }

    /// <summary>A page of the System Log and its next link (null when Okta gives none).</summary>
    private static async Task<(IReadOnlyList<JsonNode?> Events, string? Next)> Get(HttpClient okta, string url)
    {
        using var response = await okta.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var links = response.Headers.GetValues("Link").ToList();
        Assert.Contains(links, l => l.EndsWith("; rel=\"self\"", StringComparison.Ordinal));
        var next = links.SingleOrDefault(l => l.EndsWith("; rel=\"next\"", StringComparison.Ordinal));
        return ((await TestEmulator.ReadJson(response)).AsArray().ToList(), next?[1..next.IndexOf('>', StringComparison.Ordinal)]);
    }

    private HttpClient Okta(string? token = TestEmulator.Token)
    {
        var client = new HttpClient(new SpecChecked(new HttpClientHandler { AllowAutoRedirect = false })) { BaseAddress = new Uri(_host.BaseUrl, "api/v1/") };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("SSWS", token);
        }

        client.DefaultRequestHeaders.UserAgent.ParseAdd("PortalTests/1.0");
        return client;
    }

    /// <summary>A Bearer token of a service app (client credentials with a private_key_jwt assertion, no DPoP).</summary>
    private async Task<HttpClient> ServiceAppClient(string clientId, string scope)
    {
        var now = _time.GetUtcNow();
        var claims = new JsonObject
        {
            ["iss"] = clientId,
            ["sub"] = clientId,
            ["aud"] = new Uri(_host.BaseUrl, "oauth2/v1/token").ToString(),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.AddMinutes(5).ToUnixTimeSeconds(),
            ["jti"] = Guid.NewGuid().ToString("N"),
        };
        var input = Base64Url.EncodeToString(Encoding.UTF8.GetBytes("""{"alg":"RS256"}""")) + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var assertion = input + "." + Base64Url.EncodeToString(_key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        using var http = TestEmulator.Browser(_host);
        using var response = await http.PostAsync("oauth2/v1/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["scope"] = scope,
            ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ["client_assertion"] = assertion,
        }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var client = Okta(token: null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await TestEmulator.ReadJson(response))["access_token"]!.GetValue<string>());
        return client;
    }

    /// <summary>Checks every System Log answer against Okta's published spec (the subset the repository vendors).</summary>
    private sealed class SpecChecked(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (request.RequestUri!.AbsolutePath == "/api/v1/logs")
            {
                await response.Content.LoadIntoBufferAsync(cancellationToken);
                var problems = Spec.Validate(
                    request.Method.Method, request.RequestUri.AbsolutePath, (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync(cancellationToken));
                // Okta answers 401 for a bad credential on every operation; the spec does not repeat it per operation.
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    problems = Spec.ValidateError(401, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync(cancellationToken), "listLogEvents");
                }

                Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
            }

            return response;
        }
    }
}
