using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portal.Idp.Entra;
using Portal.IdpEmulator;

namespace Portal.Idp.Tests;

/// <summary>The Entra adapter through the real Microsoft.Graph SDK, over HTTP, against the emulator's Graph subset.</summary>
public sealed class EntraGraphDirectoryTests : IAsyncLifetime
{
    private const string ClientId = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d";
    private const string ClientSecret = "entra-secret-for-tests";
    private const string DirectoryId = "7d5e1c0a-2b3c-4d5e-8f90-a1b2c3d4e5f6";
    private const string Grace = "grace.caller@entra.example";
    private const string Heidi = "heidi.caller@entra.example";
    private const string Ivan = "ivan.admin@entra.example";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private EmulatorHost _host = null!;
    private ServiceProvider _services = null!;
    private ICallerDirectory _directory = null!;

    public async Task InitializeAsync()
    {
        var options = new EmulatorOptions { OktaApiToken = "unused-okta-token", TimeProvider = _time };
        options.GraphClients.Add(new EmulatorClient(ClientId, ClientSecret));
        _host = await EmulatorHost.StartAsync(options);
        _services = new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(_time).AddPortalEntra().BuildServiceProvider();
        _directory = Create(ClientSecret);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task FindCaller_ByUpn_ReturnsProfile()
    {
        var result = await _directory.FindCallerAsync(Grace);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal(_host.State.FindEntraUser(Grace)!.Id, result.Value.Id);
        Assert.Equal(Grace, result.Value.Login);
        Assert.Equal(CallerStatus.Active, result.Value.Status);
    }

    [Fact]
    public async Task FindCaller_ByMailInOtherCase_ReturnsProfile()
    {
        var result = await _directory.FindCallerAsync("HEIDI.Caller@entra.example");

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal(_host.State.FindEntraUser(Heidi)!.Id, result.Value.Id);
    }

    [Fact]
    public async Task FindCaller_Unknown_ReturnsNotFound()
    {
        var result = await _directory.FindCallerAsync("nobody@entra.example");

        Assert.Equal(IdpErrorKind.NotFound, result.Error?.Kind);
    }

    [Theory]
    [InlineData("")]
    [InlineData("no-at-sign")]
    [InlineData("a\nb@entra.example")]
    public async Task FindCaller_InvalidInput_ReturnsInvalidWithoutCallingGraph(string input)
    {
        var result = await _directory.FindCallerAsync(input);

        Assert.Equal(IdpErrorKind.Invalid, result.Error?.Kind);
        Assert.DoesNotContain(_host.State.Requests, r => r.PathAndQuery.StartsWith("/v1.0/users?", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FindCaller_HostileQuote_ReachesGraphEscapedAndMatchesNobody()
    {
        var result = await _directory.FindCallerAsync("x' or 1 eq 1 or mail eq 'grace.caller@entra.example");

        Assert.Equal(IdpErrorKind.NotFound, result.Error?.Kind);
        var sent = _host.State.Requests.Single(r => r.PathAndQuery.StartsWith("/v1.0/users?", StringComparison.Ordinal));
        var query = Uri.UnescapeDataString(sent.PathAndQuery);
        Assert.Contains("userPrincipalName eq 'x'' or 1 eq 1 or mail eq ''grace.caller@entra.example'", query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetCaller_ById_ReturnsProfile()
    {
        var id = _host.State.FindEntraUser(Ivan)!.Id;

        var result = await _directory.GetCallerAsync(id);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal(Ivan, result.Value.Login);
    }

    [Fact]
    public async Task GetCaller_UnknownGuid_ReturnsNotFound()
    {
        var result = await _directory.GetCallerAsync(Guid.NewGuid().ToString());

        Assert.Equal(IdpErrorKind.NotFound, result.Error?.Kind);
        Assert.Equal("Request_ResourceNotFound", result.Error?.Code);
    }

    [Fact]
    public async Task GetCaller_NotAGuid_ReturnsInvalidWithoutCallingGraph()
    {
        var result = await _directory.GetCallerAsync("../users?$filter=x");

        Assert.Equal(IdpErrorKind.Invalid, result.Error?.Kind);
        Assert.Empty(_host.State.Requests);
    }

    [Fact]
    public async Task ListFactors_StrongMethods_OfferOneStepUpFactor()
    {
        var result = await _directory.ListFactorsAsync(_host.State.FindEntraUser(Grace)!.Id);

        Assert.True(result.IsSuccess, result.Error?.Code);
        var challengeable = Assert.Single(result.Value, f => f.Method is not null);
        Assert.Equal(new CallerFactor("stepup", FactorKind.Other, "Entra", true, VerificationMethods.OidcStepUp, null), challengeable);
        Assert.Contains(result.Value, f => f.Kind == FactorKind.Push && f.NotChallengeableReason is not null);
        Assert.Contains(result.Value, f => f.Kind == FactorKind.Totp && f.NotChallengeableReason is not null);
        Assert.Equal(3, result.Value.Count);
    }

    [Fact]
    public async Task ListFactors_PhoneOnly_OffersNothing()
    {
        var result = await _directory.ListFactorsAsync(_host.State.FindEntraUser(Heidi)!.Id);

        Assert.True(result.IsSuccess, result.Error?.Code);
        var phone = Assert.Single(result.Value);
        Assert.Equal(FactorKind.Sms, phone.Kind);
        Assert.Null(phone.Method);
        Assert.NotNull(phone.NotChallengeableReason);
    }

    [Fact]
    public async Task IssueTemporaryAccess_Caller_ReturnsValueOnceAndEmulatorCountsOne()
    {
        var user = _host.State.FindEntraUser(Grace)!;

        var result = await _directory.IssueTemporaryAccessAsync(user.Id, TimeSpan.FromMinutes(60), usableOnce: true);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.False(string.IsNullOrEmpty(result.Value.Value));
        Assert.True(result.Value.UsableOnce);
        Assert.Equal(_time.GetUtcNow().AddMinutes(60), result.Value.ExpiresAt);
        Assert.Equal(1, user.TemporaryAccessPassesIssued);
        var post = _host.State.Requests.Single(r => r.Method == "POST");
        Assert.Contains("\"lifetimeInMinutes\":60", post.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IssueTemporaryAccess_LifetimeBelowMinimum_IsClampedToTenMinutes()
    {
        var result = await _directory.IssueTemporaryAccessAsync(_host.State.FindEntraUser(Grace)!.Id, TimeSpan.FromMinutes(1), usableOnce: false);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal(_time.GetUtcNow().AddMinutes(10), result.Value.ExpiresAt);
    }

    /// <summary>
    /// Issue 10: the tenant's Temporary Access Pass policy decides (Graph answers 400 when it is off or its lifetime range
    /// excludes the pass asked for); the agent is told to check that policy, and nothing is issued.
    /// </summary>
    [Theory]
    [InlineData(false, 10, 480)]
    [InlineData(true, 120, 480)]
    [InlineData(true, 10, 30)]
    public async Task IssueTemporaryAccess_TapPolicyDoesNotAllowIt_RefusedNamingThePolicy_NothingIssued(bool enabled, int minimum, int maximum)
    {
        var user = _host.State.FindEntraUser(Grace)!;
        _host.State.EntraTapPolicy = new Portal.IdpEmulator.TapPolicySettings { Enabled = enabled, MinimumLifetimeInMinutes = minimum, MaximumLifetimeInMinutes = maximum };

        var result = await _directory.IssueTemporaryAccessAsync(user.Id, TimeSpan.FromMinutes(60), usableOnce: true);

        Assert.False(result.IsSuccess);
        Assert.Equal("tap_policy", result.Error!.Code);
        Assert.Contains("Temporary Access Pass policy", result.Error.AgentMessage, StringComparison.Ordinal);
        Assert.Contains("60 minutes", result.Error.AgentMessage, StringComparison.Ordinal);
        Assert.Equal(0, user.TemporaryAccessPassesIssued);
    }

    [Fact]
    public async Task IssueTemporaryAccess_LifetimeInsideTheTapPolicy_Issued()
    {
        var user = _host.State.FindEntraUser(Grace)!;
        _host.State.EntraTapPolicy = new Portal.IdpEmulator.TapPolicySettings { MinimumLifetimeInMinutes = 60, MaximumLifetimeInMinutes = 60 };

        var result = await _directory.IssueTemporaryAccessAsync(user.Id, TimeSpan.FromMinutes(60), usableOnce: true);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal(1, user.TemporaryAccessPassesIssued);
    }

    [Fact]
    public async Task RevokeSessions_Caller_SucceedsAndEmulatorCountsOne()
    {
        var user = _host.State.FindEntraUser(Grace)!;

        var result = await _directory.RevokeSessionsAsync(user.Id);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal(1, user.SessionsRevoked);
    }

    [Fact]
    public async Task ResetPassword_Temporary_ReturnsComplexPasswordAndForcesChange()
    {
        var user = _host.State.FindEntraUser(Heidi)!;

        var result = await _directory.ResetPasswordAsync(user.Id, PasswordResetKind.TemporaryPassword);

        Assert.True(result.IsSuccess, result.Error?.Code);
        var password = result.Value.OneTimeSecret!;
        Assert.Equal(16, password.Length);
        Assert.Contains(password, char.IsAsciiLetterUpper);
        Assert.Contains(password, char.IsAsciiLetterLower);
        Assert.Contains(password, char.IsAsciiDigit);
        Assert.Contains(password, c => !char.IsAsciiLetterOrDigit(c));
        Assert.Equal(1, user.PasswordResets);
        Assert.True(user.LastForceChangePasswordNextSignIn);
    }

    [Theory]
    [InlineData(PasswordResetKind.SendEmail)]
    [InlineData(PasswordResetKind.OneTimeLink)]
    public async Task ResetPassword_EmailOrLink_ReturnsInvalidWithoutCallingGraph(PasswordResetKind kind)
    {
        var result = await _directory.ResetPasswordAsync(_host.State.FindEntraUser(Grace)!.Id, kind);

        Assert.Equal(IdpErrorKind.Invalid, result.Error?.Kind);
        Assert.Empty(_host.State.Requests);
    }

    [Fact]
    public async Task ResetPassword_GlobalAdmin_ReturnsAccessDeniedWithPrivilegedMessage()
    {
        var user = _host.State.FindEntraUser(Ivan)!;

        var result = await _directory.ResetPasswordAsync(user.Id, PasswordResetKind.TemporaryPassword);

        Assert.Equal(IdpErrorKind.AccessDenied, result.Error?.Kind);
        Assert.Equal("Authorization_RequestDenied", result.Error?.Code);
        Assert.Equal(GraphErrorMapper.PrivilegedMessage, result.Error?.AgentMessage);
        Assert.Equal(0, user.PasswordResets);
    }

    [Fact]
    public async Task IssueTemporaryAccess_GlobalAdmin_ReturnsAccessDeniedWithPrivilegedMessage()
    {
        var result = await _directory.IssueTemporaryAccessAsync(_host.State.FindEntraUser(Ivan)!.Id, TimeSpan.FromHours(1), usableOnce: true);

        Assert.Equal(IdpErrorKind.AccessDenied, result.Error?.Kind);
        Assert.Equal(GraphErrorMapper.PrivilegedMessage, result.Error?.AgentMessage);
    }

    [Fact]
    public async Task ForbiddenWrite_NonAdminTarget_SaysThePortalLacksTheRight()
    {
        var user = _host.State.FindEntraUser(Grace)!;
        _host.State.FailNext(403, "/temporaryAccessPassMethods");

        var result = await _directory.IssueTemporaryAccessAsync(user.Id, TimeSpan.FromHours(1), usableOnce: true);

        Assert.Equal(IdpErrorKind.AccessDenied, result.Error?.Kind);
        Assert.Equal(GraphErrorMapper.MissingRightMessage, result.Error?.AgentMessage);
    }

    [Fact]
    public async Task RevokeSessions_RateLimited_ReturnsRetryAfterAndSendsOnePost()
    {
        var user = _host.State.FindEntraUser(Grace)!;
        _host.State.FailNext(429, "/revokeSignInSessions");

        var result = await _directory.RevokeSessionsAsync(user.Id);

        Assert.Equal(IdpErrorKind.RateLimited, result.Error?.Kind);
        Assert.Equal(TimeSpan.FromSeconds(30), result.Error?.RetryAfter);
        Assert.Single(_host.State.Requests, r => r.Method == "POST");
        Assert.Equal(0, user.SessionsRevoked);
    }

    [Fact]
    public async Task IssueTemporaryAccess_ServiceUnavailable_IsNotResent()
    {
        var user = _host.State.FindEntraUser(Grace)!;
        _host.State.FailNext(503, "/temporaryAccessPassMethods");

        var result = await _directory.IssueTemporaryAccessAsync(user.Id, TimeSpan.FromHours(1), usableOnce: true);

        Assert.Equal(IdpErrorKind.Unavailable, result.Error?.Kind);
        Assert.Single(_host.State.Requests, r => r.Method == "POST");
        Assert.Equal(0, user.TemporaryAccessPassesIssued);
    }

    [Fact]
    public async Task GetCaller_OneServiceUnavailable_IsRetriedByGraphMiddleware()
    {
        var id = _host.State.FindEntraUser(Grace)!.Id;
        _host.State.FailNext(503, "/v1.0/users/" + id);

        var result = await _directory.GetCallerAsync(id);

        // Proves Graph's retry handler sits in the named HttpClient: a read is resent once after the 503.
        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal(2, _host.State.Requests.Count(r => r.Method == "GET"));
    }

    [Fact]
    public async Task GetCaller_Outage_ReturnsUnavailable()
    {
        _host.State.SetOutage(true);

        var result = await _directory.GetCallerAsync(_host.State.FindEntraUser(Grace)!.Id);

        Assert.Equal(IdpErrorKind.Unavailable, result.Error?.Kind);
    }

    [Fact]
    public async Task GetCaller_NothingListening_ReturnsUnavailable()
    {
        var port = _host.BaseUrl.Port;
        await _host.DisposeAsync();
        _host = await EmulatorHost.StartAsync(new EmulatorOptions { OktaApiToken = "unused" });
        var dead = new Uri($"http://127.0.0.1:{port}/");
        var directory = Create(ClientSecret, graphRoot: dead, tokenRoot: dead);

        var result = await directory.GetCallerAsync(Guid.NewGuid().ToString());

        Assert.Equal(IdpErrorKind.Unavailable, result.Error?.Kind);
    }

    [Fact]
    public async Task AnyCall_WrongClientSecret_ReturnsUnauthorized()
    {
        var directory = Create("wrong-secret");

        var result = await directory.GetCallerAsync(_host.State.FindEntraUser(Grace)!.Id);

        Assert.Equal(IdpErrorKind.Unauthorized, result.Error?.Kind);
        Assert.Equal("invalid_client", result.Error?.Code);
        Assert.Empty(_host.State.Requests);
    }

    [Fact]
    public async Task Token_NearExpiry_IsRenewedFiveMinutesEarly()
    {
        var id = _host.State.FindEntraUser(Grace)!.Id;
        Assert.True((await _directory.GetCallerAsync(id)).IsSuccess);
        Assert.True((await _directory.GetCallerAsync(id)).IsSuccess);

        // The emulator's tokens live 3599 s; past 3599 - 300 s the cached one must not be used any more.
        _time.Advance(TimeSpan.FromSeconds(3599 - 290));
        var afterRenewal = await _directory.GetCallerAsync(id);
        _time.Advance(TimeSpan.FromSeconds(300));
        var stillValid = await _directory.GetCallerAsync(id);

        Assert.True(afterRenewal.IsSuccess, afterRenewal.Error?.Code);
        Assert.True(stillValid.IsSuccess, stillValid.Error?.Code);
    }

    [Fact]
    public async Task ResetFactors_Caller_DeletesEveryMethodButThePassword()
    {
        var user = _host.State.FindEntraUser(Grace)!;

        var result = await _directory.ResetFactorsAsync(user.Id);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal(2, user.MethodsDeleted);
        Assert.Equal(["passwordAuthenticationMethod"], user.Methods.Select(m => m.ODataType));
        // Graph refuses the default (the Authenticator, listed first) while the OATH app remains: it goes last.
        Assert.Equal(["authenticator app (OATH code)", "Microsoft Authenticator"], result.Value.Removed);
        Assert.Empty(result.Value.Remaining);
        Assert.False(result.Value.IsPartial);
    }

    [Fact]
    public async Task ResetFactors_OneDeletionRefused_PartialOutcomeNamesRemovedAndRemaining()
    {
        var user = _host.State.FindEntraUser(Grace)!;
        _host.State.FailNext(403, "/microsoftAuthenticatorMethods/");

        var result = await _directory.ResetFactorsAsync(user.Id);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.True(result.Value.IsPartial);
        Assert.Equal(["authenticator app (OATH code)"], result.Value.Removed);
        Assert.Equal(["Microsoft Authenticator"], result.Value.Remaining);
        Assert.Equal("Authorization_RequestDenied", result.Value.StoppedBy);
        Assert.Equal(["passwordAuthenticationMethod", "microsoftAuthenticatorAuthenticationMethod"], user.Methods.Select(m => m.ODataType));
    }

    [Fact]
    public async Task ResetFactors_FirstDeletionFailsNothingRemoved_IsAFailureNotPartial()
    {
        var user = _host.State.FindEntraUser(Heidi)!;
        _host.State.FailNext(403, "/phoneMethods/");

        var result = await _directory.ResetFactorsAsync(user.Id);

        Assert.Equal(IdpErrorKind.AccessDenied, result.Error?.Kind);
        Assert.Equal(0, user.MethodsDeleted);
    }

    [Fact]
    public async Task ResetPassword_SyncedUser_ExplainsWritebackWithoutPatching()
    {
        var user = _host.State.FindEntraUser("mallory.synced@entra.example")!;

        var found = await _directory.FindCallerAsync(user.UserPrincipalName);
        var result = await _directory.ResetPasswordAsync(user.Id, PasswordResetKind.TemporaryPassword);

        Assert.True(found.Value.DirectorySynced);
        Assert.False((await _directory.FindCallerAsync(Grace)).Value.DirectorySynced);
        Assert.Equal("synced_user", result.Error?.Code);
        Assert.Contains("on-premises Active Directory", result.Error?.AgentMessage, StringComparison.Ordinal);
        Assert.Contains("Temporary Access Pass", result.Error?.AgentMessage, StringComparison.Ordinal);
        Assert.DoesNotContain(_host.State.Requests, r => r.Method == "PATCH");
        Assert.Equal(0, user.PasswordResets);
    }

    [Theory]
    [InlineData("judy.eligible@entra.example", "eligible role: User Administrator (scope /administrativeUnits/")]
    [InlineData("kim.groupadmin@entra.example", "role-assignable group: Tier Zero Operators")]
    [InlineData("ivan.admin@entra.example", "role: Global Administrator")]
    public async Task ListGroups_PrivilegedByEligibleRoleGroupOrActiveRole_NamesTheReason(string upn, string reason)
    {
        var result = await _directory.ListGroupsAsync(_host.State.FindEntraUser(upn)!.Id);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Contains(result.Value, r => r.StartsWith(reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ListGroups_CallerInOrdinaryGroupOnly_NotPrivileged()
    {
        var result = await _directory.ListGroupsAsync(_host.State.FindEntraUser(Grace)!.Id);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Empty(result.Value);
    }

    [Fact]
    public async Task ListGroups_EligibilityUnreadable_IsAnErrorSoUnknown()
    {
        _host.State.FailNext(403, "/roleEligibilitySchedules");

        var result = await _directory.ListGroupsAsync(_host.State.FindEntraUser(Grace)!.Id);

        Assert.False(result.IsSuccess);
    }

    [Fact]
    public async Task ChallengesAndUnlock_ReturnInvalidWithoutCallingGraph()
    {
        var id = _host.State.FindEntraUser(Grace)!.Id;
        var context = new ChallengeContext("Portal/1.0", null);

        var push = await _directory.StartPushAsync(id, "stepup", context);
        var poll = await _directory.PollPushAsync(id, "ref");
        var totp = await _directory.VerifyTotpAsync(id, "stepup", "123456", context);
        var unlock = await _directory.UnlockAsync(id);

        Assert.Equal(IdpErrorKind.Invalid, push.Error?.Kind);
        Assert.Equal(IdpErrorKind.Invalid, poll.Error?.Kind);
        Assert.Equal(IdpErrorKind.Invalid, totp.Error?.Kind);
        Assert.Equal(IdpErrorKind.Invalid, unlock.Error?.Kind);
        Assert.Empty(_host.State.Requests);
    }

    [Fact]
    public void GraphHttpClient_CarriesGraphMiddlewareWithReadOnlyRetry()
    {
        using var getTooMany = new HttpResponseMessage((HttpStatusCode)429) { RequestMessage = new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1/") };
        using var postTooMany = new HttpResponseMessage((HttpStatusCode)429) { RequestMessage = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1/") };
        using var patchUnavailable = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { RequestMessage = new HttpRequestMessage(HttpMethod.Patch, "http://127.0.0.1/") };

        var handlers = GraphHttpPipeline.CreateHandlers();

        Assert.Single(handlers, h => h is Microsoft.Kiota.Http.HttpClientLibrary.Middleware.RetryHandler);
        Assert.Contains(handlers, h => h is Microsoft.Kiota.Http.HttpClientLibrary.Middleware.RedirectHandler);
        Assert.True(GraphHttpPipeline.ShouldRetry(getTooMany));
        Assert.False(GraphHttpPipeline.ShouldRetry(postTooMany));
        Assert.False(GraphHttpPipeline.ShouldRetry(patchUnavailable));
        foreach (var handler in handlers)
        {
            handler.Dispose();
        }
    }

    [Theory]
    [InlineData("http://graph.example.com/")]
    [InlineData("https://user:pw@graph.example.com/")]
    public void Create_InsecureGraphUrl_Throws(string url)
    {
        Assert.Throws<ArgumentException>(() => Create(ClientSecret, graphRoot: new Uri(url)));
    }

    [Fact]
    public void Create_OktaConnection_Throws()
    {
        var factory = _services.GetRequiredKeyedService<ICallerDirectoryFactory>(IdpKind.Entra);

        Assert.Throws<ArgumentException>(() => factory.Create(new IdpConnection("t1", IdpKind.Okta, _host.BaseUrl, "token")));
    }

    private ICallerDirectory Create(string secret, Uri? graphRoot = null, Uri? tokenRoot = null)
    {
        var factory = _services.GetRequiredKeyedService<ICallerDirectoryFactory>(IdpKind.Entra);
        var connection = new IdpConnection("tenant-1", IdpKind.Entra, graphRoot ?? _host.BaseUrl, secret)
        {
            Entra = new EntraAppCredentials(DirectoryId, ClientId, new Uri(tokenRoot ?? _host.BaseUrl, DirectoryId + "/oauth2/v2.0/token")),
        };
        return factory.Create(connection);
    }
}
