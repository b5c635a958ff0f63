using System.Net;
using System.Text.Json.Nodes;
using Portal.IdpEmulator;
using Portal.Storage;

namespace Portal.Web.Tests;

/// <summary>
/// <c>oidc.stepup</c> over real HTTP: the agent starts it, the caller opens the link, types the short code and signs
/// in at their IdP with a TOTP code; the portal accepts only a fresh MFA sign-in by that caller, once (V1, V2, V5, V8).
/// </summary>
public sealed class StepUpTests(StepUpTestHost host) : IClassFixture<StepUpTestHost>, IAsyncLifetime
{
    private const string Tenant = StepUpTestHost.OktaTenant;

    // One portal serves the class; each test has callers and an agent of its own (the parts Alice, Bob and the
    // Tier 3 agent played on a portal of its own), so an alarm, a cool-down or a limit of one test is no other's.
    private readonly StepUpTestHost _host = host;
    private readonly string _alice = TestPeople.NewCaller(host.Emulator.State);
    private readonly string _bob = TestPeople.NewCaller(host.Emulator.State);
    private readonly string _tier3 = TestPeople.NewAgent(host.Emulator.State, "Helpdesk Tier 3");
    private StoreMark? _mark;
    private int _authorizeRequestsBefore;

    public async Task InitializeAsync()
    {
        _mark = await StoreMark.TakeAsync(_host.Store, Collection("audit"), Collection("verificationSessions"), Collection("callerCounters"));
        _authorizeRequestsBefore = _host.Emulator.State.CallerAuthorizeRequests.Count;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task StepUp_OktaCallerSignsInWithTotp_ApprovedAndVerificationSessionOpened()
    {
        var agent = await _host.SignInOktaAsync(_tier3);
        var callerPage = await _host.LookupAsync(agent, _alice);
        Assert.Contains("Start step-up", callerPage, StringComparison.Ordinal);
        var (pending, link, code) = await _host.StartStepUpAsync(agent, callerPage);
        Assert.Matches("^[A-Z2-9]{8}$", code);
        Assert.Equal("Waiting", (await _host.PollAsync(agent, pending)).State);

        var done = await _host.CallerCompletesAsync(link, code, _alice, _host.Emulator.State.CurrentTotp(_alice));

        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Contains("data-result=\"verified\"", await done.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var (state, next) = await _host.PollAsync(agent, pending);
        Assert.Equal("Approved", state);
        Assert.NotNull(next);
        var session = await _host.GetPageAsync(agent, next);
        Assert.Contains("oidc.stepup", session, StringComparison.Ordinal);
        Assert.Equal(1, await CountAsync("verificationSessions"));

        // The IdP was asked for a fresh sign-in, and was not told who to expect.
        var request = Assert.Single(_host.Emulator.State.CallerAuthorizeRequests.Skip(_authorizeRequestsBefore));
        Assert.Equal("login", request.Parameters["prompt"]);
        Assert.Equal("0", request.Parameters["max_age"]);
        Assert.False(request.Parameters.ContainsKey("login_hint"));
        Assert.Equal("S256", request.Parameters["code_challenge_method"]);

        var audit = await AuditAsync();
        Assert.Contains(audit, d => Is(d, "verification.stepup.start", "succeeded"));
        Assert.Contains(audit, d => Is(d, "verification.stepup.code", "succeeded"));
        Assert.Contains(audit, d => Is(d, "verification.stepup.result", "succeeded"));

        // The link token and the short code are stored nowhere, and logged nowhere.
        var token = link.Segments[^1];
        var stored = await _host.AllStoredTextAsync();
        Assert.DoesNotContain(token, stored, StringComparison.Ordinal);
        Assert.DoesNotContain("\"" + code + "\"", stored, StringComparison.Ordinal);
        Assert.DoesNotContain(_host.LogLines, l => l.Contains(token, StringComparison.Ordinal) || l.Contains(code, StringComparison.Ordinal));
    }

    [Fact]
    public async Task StepUp_AnotherUserSignsIn_RefusedAsAlarm()
    {
        var (agent, pending, link, code) = await StartAsync();

        var done = await _host.CallerCompletesAsync(link, code, _bob, _host.Emulator.State.CurrentTotp(_bob));

        await AssertRefusedAsync(agent, pending, done, "subject_mismatch", "alarm");
    }

    [Fact]
    public async Task StepUp_AuthTimeOld_Refused()
    {
        var (agent, pending, link, code) = await StartAsync();
        _host.Emulator.State.NextCallerSignIn(new CallerTokenOverrides { AuthTime = DateTimeOffset.UtcNow.AddHours(-1) });

        var done = await _host.CallerCompletesAsync(link, code, _alice, _host.Emulator.State.CurrentTotp(_alice));

        await AssertRefusedAsync(agent, pending, done, "auth_time_stale", "failed");
    }

    [Fact]
    public async Task StepUp_AuthTimeAbsent_Refused()
    {
        var (agent, pending, link, code) = await StartAsync();
        _host.Emulator.State.NextCallerSignIn(new CallerTokenOverrides { OmitAuthTime = true });

        var done = await _host.CallerCompletesAsync(link, code, _alice, _host.Emulator.State.CurrentTotp(_alice));

        await AssertRefusedAsync(agent, pending, done, "auth_time_missing", "failed");
    }

    [Fact]
    public async Task StepUp_PasswordOnlySignIn_RefusedForMissingMfa()
    {
        var (agent, pending, link, code) = await StartAsync();

        var done = await _host.CallerCompletesAsync(link, code, _alice, otp: "");

        await AssertRefusedAsync(agent, pending, done, "mfa_missing", "failed");
    }

    [Fact]
    public async Task StepUp_AmrAbsent_Refused()
    {
        var (agent, pending, link, code) = await StartAsync();
        _host.Emulator.State.NextCallerSignIn(new CallerTokenOverrides { OmitAmr = true });

        var done = await _host.CallerCompletesAsync(link, code, _alice, _host.Emulator.State.CurrentTotp(_alice));

        await AssertRefusedAsync(agent, pending, done, "mfa_missing", "failed");
    }

    [Fact]
    public async Task StepUp_LinkOpenedTwice_SecondRefusedFirstStillCompletes()
    {
        var (agent, pending, link, code) = await StartAsync();
        var firstBrowser = _host.NewClient();
        var first = await _host.EnterCodeAsync(firstBrowser, link, code);
        var authorize = await _host.ContinueToIdpAsync(firstBrowser, first);

        var second = await _host.EnterCodeAsync(_host.NewClient(), link, code);

        Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
        Assert.Contains("data-result=\"failed\"", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("name=\"code\"", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains(await AuditAsync(), d => Is(d, "verification.stepup.code", "denied") && Reason(d) == "link_reused");

        var done = await _host.SignInAtIdpAsync(firstBrowser, authorize, _alice, _host.Emulator.State.CurrentTotp(_alice));
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Equal("Approved", (await _host.PollAsync(agent, pending)).State);
        Assert.Equal(1, await CountAsync("verificationSessions"));
    }

    [Fact]
    public async Task StepUp_CodeFormPostedAfterLinkSpent_RefusedAndStepUpFailed()
    {
        var (agent, pending, link, code) = await StartAsync();

        // Two tabs: the form is loaded in both before either is sent.
        var tab1 = _host.NewClient();
        var tab2 = _host.NewClient();
        var form1 = await _host.GetPageAsync(tab1, link.PathAndQuery);
        var form2 = await _host.GetPageAsync(tab2, link.PathAndQuery);
        var first = await PortalTestHost.PostFormAsync(tab1, link.PathAndQuery, PortalTestHost.FormToken(form1), ("code", code));
        var authorize = await _host.ContinueToIdpAsync(tab1, first);

        var second = await PortalTestHost.PostFormAsync(tab2, link.PathAndQuery, PortalTestHost.FormToken(form2), ("code", code));

        Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
        var late = await _host.SignInAtIdpAsync(tab1, authorize, _alice, _host.Emulator.State.CurrentTotp(_alice));
        Assert.Equal(HttpStatusCode.BadRequest, late.StatusCode);
        Assert.Equal("Rejected", (await _host.PollAsync(agent, pending)).State);
        Assert.Equal(0, await CountAsync("verificationSessions"));
        Assert.Contains(await AuditAsync(), d => Is(d, "verification.stepup.result", "failed") && Reason(d) == "link_reused");
    }

    [Fact]
    public async Task StepUp_LinkReusedAfterSuccess_RefusedAndOnlyOneSession()
    {
        var (agent, pending, link, code) = await StartAsync();
        await _host.CallerCompletesAsync(link, code, _alice, _host.Emulator.State.CurrentTotp(_alice));
        Assert.Equal("Approved", (await _host.PollAsync(agent, pending)).State);

        var again = await _host.EnterCodeAsync(_host.NewClient(), link, code);

        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Equal(1, await CountAsync("verificationSessions"));
        Assert.Contains(await AuditAsync(), d => Is(d, "verification.stepup.code", "denied") && Reason(d) == "link_reused");
    }

    [Fact]
    public async Task StepUp_CallbackReplayed_NothingMore()
    {
        var (agent, pending, link, code) = await StartAsync();
        var browser = _host.NewClient();
        var entered = await _host.EnterCodeAsync(browser, link, code);
        var done = await _host.SignInAtIdpAsync(browser, await _host.ContinueToIdpAsync(browser, entered), _alice, _host.Emulator.State.CurrentTotp(_alice));
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        var callback = done.RequestMessage!.RequestUri!.PathAndQuery;

        var replay = await browser.GetAsync(callback);

        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Equal("Approved", (await _host.PollAsync(agent, pending)).State);
        Assert.Equal(1, await CountAsync("verificationSessions"));
    }

    [Fact]
    public async Task StepUp_PageAfterCodeOpenedInAnotherBrowser_NoWayToTheIdp()
    {
        var (_, _, link, code) = await StartAsync();
        var entered = await _host.EnterCodeAsync(_host.NewClient(), link, code);
        Assert.Equal(HttpStatusCode.SeeOther, entered.StatusCode);

        // The page that hands the browser on to the IdP names the sign-in's state; only the browser that typed the code gets it.
        var elsewhere = await _host.NewClient().GetAsync(entered.Headers.Location!.OriginalString);

        Assert.Equal(HttpStatusCode.BadRequest, elsewhere.StatusCode);
        var html = await elsewhere.Content.ReadAsStringAsync();
        Assert.DoesNotContain("http-equiv=\"refresh\"", html, StringComparison.Ordinal);
        Assert.Contains("data-result=\"failed\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StepUp_CallbackInAnotherBrowser_Refused()
    {
        var (agent, pending, link, code) = await StartAsync();
        var typedIn = _host.NewClient();
        var entered = await _host.EnterCodeAsync(typedIn, link, code);
        var authorize = await _host.ContinueToIdpAsync(typedIn, entered);

        var done = await _host.SignInAtIdpAsync(_host.NewClient(), authorize, _alice, _host.Emulator.State.CurrentTotp(_alice));

        await AssertRefusedAsync(agent, pending, done, "browser_mismatch", "failed");
    }

    [Fact]
    public async Task StepUp_WrongShortCode_FormAgainThenFifthBurnsLink()
    {
        var (agent, pending, link, code) = await StartAsync();
        var wrong = code == "AAAAAAAA" ? "BBBBBBBB" : "AAAAAAAA";
        var browser = _host.NewClient();

        var first = await _host.EnterCodeAsync(browser, link, wrong);
        Assert.Equal(HttpStatusCode.BadRequest, first.StatusCode);
        Assert.Contains("not right", await first.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("Waiting", (await _host.PollAsync(agent, pending)).State);
        for (var i = 0; i < 4; i++)
        {
            await _host.EnterCodeAsync(browser, link, wrong);
        }

        var right = await _host.EnterCodeAsync(browser, link, code);

        Assert.Equal(HttpStatusCode.BadRequest, right.StatusCode);
        Assert.Equal("Rejected", (await _host.PollAsync(agent, pending)).State);
        Assert.Equal(0, await CountAsync("verificationSessions"));
        var audit = await AuditAsync();
        Assert.Contains(audit, d => Is(d, "verification.stepup.code", "failed") && Reason(d) == "wrong_code");
        Assert.Contains(audit, d => Is(d, "verification.stepup.result", "failed") && Reason(d) == "code_attempts");
    }

    /// <summary>F7: anyone holding a link is anonymous; their wrong codes burn the link, never the caller's failure budget.</summary>
    [Fact]
    public async Task StepUp_WrongShortCodesOnTheLink_CountAgainstTheLinkOnly()
    {
        var (_, _, link, code) = await StartAsync();
        var wrong = code == "AAAAAAAA" ? "BBBBBBBB" : "AAAAAAAA";
        var browser = _host.NewClient();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.BadRequest, (await _host.EnterCodeAsync(browser, link, wrong)).StatusCode);
        }

        foreach (var counters in await _mark!.SinceAsync(Collection("callerCounters")))
        {
            Assert.Equal(0, (int?)counters.Data["failuresInRow"] ?? 0);
            Assert.Equal(0, (int?)counters.Data["totalFailures"] ?? 0);
            Assert.Null((string?)counters.Data["cooldownUntil"]);
        }

        var audit = await AuditAsync();
        Assert.Contains(audit, d => Is(d, "verification.stepup.code", "failed") && Reason(d) == "wrong_code");
        Assert.Contains(audit, d => Is(d, "verification.stepup.result", "failed") && Reason(d) == "code_attempts");
    }

    /// <summary>
    /// V4: a step-up is charged to the caller when it starts, as every method's attempt is, so an agent cannot have more
    /// sign-ins waiting on a caller than the failure limit allows (five by default); the sixth is refused before any
    /// link exists, and audited by the same code the other methods use. An approved step-up gives its charge back.
    /// </summary>
    [Fact]
    public async Task StepUp_StartsBeyondTheFailureLimit_RefusedAsCoolingDown_ApprovalGivesTheChargeBack()
    {
        var agent = await _host.SignInOktaAsync(_tier3);
        var callerPage = await _host.LookupAsync(agent, _bob);
        var (_, link, code) = await _host.StartStepUpAsync(agent, callerPage);
        Assert.Contains("data-result=\"verified\"", await (await _host.CallerCompletesAsync(link, code, _bob, _host.Emulator.State.CurrentTotp(_bob))).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        for (var i = 0; i < 5; i++)
        {
            await _host.StartStepUpAsync(agent, callerPage);
        }

        var sixth = await _host.PostStepUpStartAsync(agent, callerPage);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, sixth.StatusCode);
        Assert.Contains("cooling_down", await sixth.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var counters = Assert.Single(await _mark!.SinceAsync(Collection("callerCounters")));
        Assert.Equal(5, (int?)counters.Data["totalFailures"]);
        Assert.NotNull((string?)counters.Data["cooldownUntil"]);
        var audit = await AuditAsync();
        Assert.Equal(6, audit.Count(d => Is(d, "verification.stepup.start", "succeeded")));
        Assert.Contains(audit, d => Is(d, "verification.stepup.start", "denied") && Reason(d) == "cooling_down");
    }

    [Fact]
    public async Task StepUp_PollByAnotherAgent_SeesNothing()
    {
        var (_, pending, _, _) = await StartAsync();
        var other = await _host.SignInOktaAsync(_tier3);

        var response = await other.GetAsync(pending);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private async Task<(HttpClient Agent, string Pending, Uri Link, string Code)> StartAsync()
    {
        var agent = await _host.SignInOktaAsync(_tier3);
        var (pending, link, code) = await _host.StartStepUpAsync(agent, await _host.LookupAsync(agent, _alice));
        return (agent, pending, link, code);
    }

    private async Task AssertRefusedAsync(HttpClient agent, string pending, HttpResponseMessage callerPage, string reason, string outcome)
    {
        Assert.Equal(HttpStatusCode.BadRequest, callerPage.StatusCode);
        var html = await callerPage.Content.ReadAsStringAsync();
        Assert.Contains("data-result=\"failed\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain(reason, html, StringComparison.Ordinal);

        Assert.Equal("Rejected", (await _host.PollAsync(agent, pending)).State);
        Assert.Contains($"data-reason=\"{reason}\"", await _host.GetPageAsync(agent, pending), StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync("verificationSessions"));
        Assert.Contains(await AuditAsync(), d => Is(d, "verification.stepup.result", outcome) && Reason(d) == reason);
    }

    private static CollectionPath Collection(string name) => CollectionPath.ForTenant(Tenant, name);

    /// <summary>The tenant's audit records this test wrote.</summary>
    private async Task<List<JsonObject>> AuditAsync() => [.. (await _mark!.SinceAsync(Collection("audit"))).Select(d => d.Data)];

    /// <summary>The documents of a tenant collection this test wrote.</summary>
    private async Task<int> CountAsync(string collection) => (await _mark!.SinceAsync(Collection(collection))).Count;

    private static bool Is(JsonObject d, string action, string outcome) => (string?)d["action"] == action && (string?)d["outcome"] == outcome;

    private static string? Reason(JsonObject d) => (string?)d["reason"];
}

/// <summary>
/// The step-up link's ten minutes: the test moves the clock past them, and past the tolerance of the tokens every
/// later sign-in on that portal would be checked with, so it has a portal of its own.
/// </summary>
public sealed class StepUpExpiryTests : IAsyncLifetime
{
    private const string Alice = "alice.caller@demo.example";
    private const string Tier3 = "tier3.agent@demo.example";
    private const string Tenant = StepUpTestHost.OktaTenant;

    private readonly StepUpTestHost _host = new();

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task StepUp_LinkExpiredAfterTenMinutes_RefusedAndTimedOut()
    {
        var agent = await _host.SignInOktaAsync(Tier3);
        var (pending, link, code) = await _host.StartStepUpAsync(agent, await _host.LookupAsync(agent, Alice));
        _host.Clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));

        var opened = await _host.EnterCodeAsync(_host.NewClient(), link, code);

        Assert.Equal(HttpStatusCode.BadRequest, opened.StatusCode);
        Assert.Contains("data-result=\"failed\"", await opened.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("TimedOut", (await _host.PollAsync(agent, pending)).State);
        Assert.Equal(0, await _host.CountAsync(Tenant, "verificationSessions"));
        Assert.Contains(await _host.AuditAsync(Tenant), d => (string?)d["action"] == "verification.stepup.result" && (string?)d["outcome"] == "failed" && (string?)d["reason"] == "stepup_timed_out");
    }
}
