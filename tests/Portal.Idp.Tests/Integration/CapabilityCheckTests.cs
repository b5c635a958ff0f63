using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Portal.Idp.Entra;
using Portal.IdpEmulator;

namespace Portal.Idp.Tests.Integration;

/// <summary>
/// The onboarding check ("Test connection") of both adapters against the emulator over real HTTP: what it proves
/// available, what it proves missing (with a reason an admin understands), and what it cannot tell.
/// </summary>
public sealed class CapabilityCheckTests : IAsyncLifetime
{
    private const string SswsToken = "capability-okta-token-7c1e";
    private const string FullApp = "0oa-check-full";
    private const string NoManageApp = "0oa-check-nomanage";
    private const string GraphFull = "6a0c2e4f-1b3d-4c5e-8f70-9a1b2c3d4e01";
    private const string GraphReadOnly = "6a0c2e4f-1b3d-4c5e-8f70-9a1b2c3d4e02";
    private const string GraphSecret = "capability-graph-secret";
    private const string DirectoryId = "3e1f5a7c-9b2d-4e6f-8a0b-1c2d3e4f5a6b";

    private static readonly string[] AllScopes = ["okta.users.read", "okta.users.manage", "okta.roles.read", "okta.authenticators.read", "okta.logs.read"];
    private static readonly string[] NoManageScopes = ["okta.users.read", "okta.roles.read", "okta.authenticators.read"];

    private readonly RSA _key = RSA.Create(2048);
    private readonly EmulatorOptions _options = new() { OktaApiToken = SswsToken };
    private EmulatorHost _emulator = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        var publicKey = RSA.Create();
        publicKey.ImportParameters(_key.ExportParameters(false));
        _options.OktaServiceApps.Add(new EmulatorServiceApp(FullApp, publicKey, AllScopes) { RequireDpop = false });
        _options.OktaServiceApps.Add(new EmulatorServiceApp(NoManageApp, publicKey, NoManageScopes) { RequireDpop = false });
        _options.GraphClients.Add(new EmulatorClient(GraphFull, GraphSecret));
        _options.GraphClients.Add(new EmulatorClient(GraphReadOnly, GraphSecret) { ApplicationPermissions = ["User.Read.All"] });
        _emulator = await EmulatorHost.StartAsync(_options);
        _services = new ServiceCollection().AddLogging().AddPortalIdp().AddPortalEntra().BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _emulator.DisposeAsync();
        _key.Dispose();
    }

    [Fact]
    public async Task Okta_ServiceAppWithEveryScope_IdentityEngine_EveryOperationAvailable()
    {
        var report = await CheckAsync(Okta(new OktaServiceApp(FullApp, AllScopes), readsAuditLog: true));

        Assert.Equal(IdpKind.Okta, report.Kind);
        Assert.Equal(CapabilityState.Available, report.Credentials);
        Assert.Equal(new Uri(_emulator.BaseUrl.GetLeftPart(UriPartial.Authority) + "/"), report.CanonicalBaseUrl);
        Assert.Equal(CapabilityState.Available, Check(report, "tac").State);
        Assert.All(Enum.GetValues<IdpOperation>(), o => Assert.Equal(CapabilityState.Available, report.For(o).State));
        Assert.All(report.Operations, o => Assert.Null(o.Reason));
    }

    [Fact]
    public async Task Okta_ClassicEngine_TacUnavailableWithTheReason_ReadsStillAvailable()
    {
        _emulator.State.ClassicEngine = true;

        var report = await CheckAsync(Okta(new OktaServiceApp(FullApp, AllScopes)));

        var tac = report.For(IdpOperation.IssueTemporaryAccess);
        Assert.Equal(CapabilityState.Unavailable, tac.State);
        Assert.Contains("Classic Engine", tac.Reason, StringComparison.Ordinal);
        Assert.Contains("Classic Engine", Check(report, "engine").Detail, StringComparison.Ordinal);
        Assert.Equal(CapabilityState.Available, report.For(IdpOperation.ReadUsers).State);
        Assert.Equal(CapabilityState.Available, report.For(IdpOperation.ResetPassword).State);
    }

    [Fact]
    public async Task Okta_TacAuthenticatorInactive_TacUnavailable_SaysAnAdministratorMustActivateIt()
    {
        _emulator.State.OktaTacActive = false;

        var report = await CheckAsync(Okta(new OktaServiceApp(FullApp, AllScopes)));

        var tac = report.For(IdpOperation.IssueTemporaryAccess);
        Assert.Equal(CapabilityState.Unavailable, tac.State);
        Assert.Contains("activate the Temporary Access Code authenticator", tac.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Okta_ServiceAppWithoutUsersManage_VerifyResetUnlockUnavailable_NamingTheScope()
    {
        var report = await CheckAsync(Okta(new OktaServiceApp(NoManageApp, NoManageScopes)));

        Assert.Equal(CapabilityState.Available, report.Credentials);
        Assert.Equal(CapabilityState.Available, report.For(IdpOperation.ReadUsers).State);
        Assert.Equal(CapabilityState.Available, report.For(IdpOperation.ReadRoles).State);
        foreach (var operation in new[] { IdpOperation.VerifyFactors, IdpOperation.ResetPassword, IdpOperation.Unlock, IdpOperation.RevokeSessions, IdpOperation.ResetFactors, IdpOperation.IssueTemporaryAccess })
        {
            var capability = report.For(operation);
            Assert.Equal(CapabilityState.Unavailable, capability.State);
            Assert.Contains("okta.users.manage", capability.Reason, StringComparison.Ordinal);
        }

        Assert.Equal(CapabilityState.Unavailable, Check(report, "scope:okta.users.manage").State);
    }

    [Fact]
    public async Task Okta_SswsToken_ReadsProved_WritesUnknownBecauseOnlyOktaCanTell()
    {
        var report = await CheckAsync(Okta(null));

        Assert.Equal(CapabilityState.Available, report.Credentials);
        Assert.Equal(CapabilityState.Available, report.For(IdpOperation.ReadUsers).State);
        Assert.Equal(CapabilityState.Available, report.For(IdpOperation.ReadRoles).State);
        Assert.Equal(CapabilityState.Unknown, report.For(IdpOperation.ResetPassword).State);
        Assert.Contains("SSWS", report.For(IdpOperation.ResetPassword).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Okta_BadSswsToken_CredentialsUnavailable_NothingClaimedAvailable()
    {
        var report = await CheckAsync(Okta(null, token: "not-the-token"));

        Assert.Equal(CapabilityState.Unavailable, report.Credentials);
        Assert.All(report.Operations, o => Assert.Equal(CapabilityState.Unavailable, o.State));
        Assert.DoesNotContain("not-the-token", string.Join(' ', report.Checks.Select(c => c.Detail).Concat(report.Operations.Select(o => o.Reason))), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Okta_ServiceAppSigningWithAnotherKey_CredentialsUnavailable_NothingClaimedAvailable()
    {
        using var other = RSA.Create(2048);

        var report = await CheckAsync(Okta(new OktaServiceApp(FullApp, AllScopes), token: other.ExportPkcs8PrivateKeyPem()));

        Assert.Equal(CapabilityState.Unavailable, report.Credentials);
        Assert.Contains("invalid_client", Check(report, IdpCapabilityReport.CredentialsCheck).Detail, StringComparison.Ordinal);
        Assert.All(report.Operations, o => Assert.Equal(CapabilityState.Unavailable, o.State));
    }

    [Fact]
    public async Task Okta_Down_EverythingUnknown_WithTheReason_NeverThrows()
    {
        var report = await CheckAsync(Factory().Create(new IdpConnection("tenant-down", IdpKind.Okta, ClosedPort(), SswsToken)));

        Assert.Equal(CapabilityState.Unknown, report.Credentials);
        Assert.Null(report.CanonicalBaseUrl);
        Assert.All(report.Operations, o =>
        {
            Assert.Equal(CapabilityState.Unknown, o.State);
            Assert.Contains("did not answer", o.Reason, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Okta_CanonicalHostDiffers_PushNotOfferedUntilTheCheckFoundIt_ThenTrusted()
    {
        // The org answers with its canonical host (localhost) while the tenant is configured with 127.0.0.1.
        _options.PublicUrl = "http://localhost:" + _emulator.BaseUrl.Port + "/";
        var login = $"c{Guid.NewGuid():N}@demo.example";
        var caller = _emulator.State.AddCaller(login, login, "Poll", "Caller", push: true);
        var factor = caller.Factors.First(f => f.FactorType == "push").Id;
        var context = new ChallengeContext("Mozilla/5.0", "192.0.2.10");

        var report = await CheckAsync(Okta(null));
        var listedWithout = await Okta(null).ListFactorsAsync(caller.Id);
        var listedWith = await Okta(null, canonical: report.CanonicalBaseUrl).ListFactorsAsync(caller.Id);

        // Before any push: the factor whose links name the untrusted host is not offered, and the agent reads why.
        Assert.Equal(new Uri(_options.PublicUrl), report.CanonicalBaseUrl);
        var refused = Assert.Single(listedWithout.Value, f => f.Id == factor);
        Assert.Null(refused.Method);
        Assert.Contains("http://localhost:" + _emulator.BaseUrl.Port, refused.NotChallengeableReason, StringComparison.Ordinal);
        Assert.Contains("Test connection", refused.NotChallengeableReason, StringComparison.Ordinal);
        Assert.Equal(VerificationMethods.OktaPush, Assert.Single(listedWith.Value, f => f.Id == factor).Method);

        var withCanonical = await Okta(null, canonical: report.CanonicalBaseUrl).StartPushAsync(caller.Id, factor, context);
        Assert.True(withCanonical.IsSuccess, withCanonical.Error?.Code);
        Assert.StartsWith(_options.PublicUrl + "api/v1/users/" + caller.Id + "/factors/", withCanonical.Value.PollReference, StringComparison.Ordinal);
        var poll = await Okta(null, canonical: report.CanonicalBaseUrl).PollPushAsync(caller.Id, withCanonical.Value.PollReference);
        Assert.True(poll.IsSuccess, poll.Error?.Code);
    }

    [Fact]
    public async Task Okta_PushAnsweredWithAnUntrustedPollLink_Refused_AndThePushWithdrawnAtTheConfiguredOrg()
    {
        // A push started without the listing (a stale page, or links that changed in between): the poll link names a
        // host the portal does not trust. Nothing is sent there; the push is cancelled through the configured URL.
        _options.PublicUrl = "http://localhost:" + _emulator.BaseUrl.Port + "/";
        var login = $"c{Guid.NewGuid():N}@demo.example";
        var caller = _emulator.State.AddCaller(login, login, "Poll", "Caller", push: true);
        var factor = caller.Factors.First(f => f.FactorType == "push").Id;
        var before = _emulator.State.Requests.Count;

        var push = await Okta(null).StartPushAsync(caller.Id, factor, new ChallengeContext("Mozilla/5.0", "192.0.2.10"));

        Assert.Equal("poll_reference_rejected", push.Error?.Code);
        Assert.Empty(_emulator.State.PendingPushes(login));
        var cancel = Assert.Single(_emulator.State.Requests.Skip(before), r => r.Method == "DELETE");
        Assert.StartsWith("/api/v1/users/" + caller.Id + "/factors/" + factor + "/transactions/", cancel.PathAndQuery, StringComparison.Ordinal);
        Assert.Equal(_emulator.BaseUrl.Authority, cancel.Host);
        Assert.DoesNotContain(_emulator.State.Requests.Skip(before), r => r.Host.StartsWith("localhost", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Entra_EveryPermission_TapEnabled_EverythingButUnlockAvailable()
    {
        var report = await CheckAsync(Entra(GraphFull, GraphSecret, readsAuditLog: true));

        Assert.Equal(IdpKind.Entra, report.Kind);
        Assert.Equal(CapabilityState.Available, report.Credentials);
        Assert.Equal(CapabilityState.Available, Check(report, "tap_policy").State);
        Assert.Equal(CapabilityState.Available, Check(report, "permission:UserAuthenticationMethod.ReadWrite.All").State);
        Assert.All(Enum.GetValues<IdpOperation>().Where(o => o != IdpOperation.Unlock), o => Assert.Equal(CapabilityState.Available, report.For(o).State));
        Assert.Equal(CapabilityState.Unavailable, report.For(IdpOperation.Unlock).State);
    }

    [Fact]
    public async Task Entra_OnlyUserReadAll_ActionsUnavailable_NamingThePermission_TapPolicyUnreadable()
    {
        var report = await CheckAsync(Entra(GraphReadOnly, GraphSecret, readsAuditLog: true));

        Assert.Equal(CapabilityState.Available, report.For(IdpOperation.ReadUsers).State);
        Assert.Contains("UserAuthenticationMethod.ReadWrite.All", report.For(IdpOperation.IssueTemporaryAccess).Reason, StringComparison.Ordinal);
        Assert.Contains("User.RevokeSessions.All", report.For(IdpOperation.RevokeSessions).Reason, StringComparison.Ordinal);
        Assert.Contains("User.ReadWrite.All", report.For(IdpOperation.ResetPassword).Reason, StringComparison.Ordinal);
        Assert.Contains("RoleManagement.Read.Directory", report.For(IdpOperation.ReadRoles).Reason, StringComparison.Ordinal);
        Assert.All(report.Operations.Where(o => o.Operation != IdpOperation.ReadUsers), o => Assert.Equal(CapabilityState.Unavailable, o.State));
        Assert.Equal(CapabilityState.Unknown, Check(report, "tap_policy").State);
        Assert.Contains("Policy.Read.All", Check(report, "tap_policy").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Entra_PermissionMissing_GraphRefuses_AgentReadsWhichPermission_NothingChanged()
    {
        // The app holds User.Read.All only: Graph (the emulator, as Graph does) refuses every other call with 403
        // Authorization_RequestDenied, and the portal names the permission from its own token, not a guess.
        var directory = Entra(GraphReadOnly, GraphSecret);
        var caller = await directory.FindCallerAsync("grace.caller@entra.example");
        Assert.True(caller.IsSuccess, caller.Error?.Code);
        var grace = _emulator.State.Graph.FindByIdOrUpn(caller.Value.Id)!;
        var methods = grace.Methods.Count;

        var factors = await directory.ListFactorsAsync(caller.Value.Id);
        var tap = await directory.IssueTemporaryAccessAsync(caller.Value.Id, TimeSpan.FromMinutes(60), usableOnce: true);
        var sessions = await directory.RevokeSessionsAsync(caller.Value.Id);
        var reset = await directory.ResetFactorsAsync(caller.Value.Id);

        foreach (var (result, permission) in new[]
        {
            (factors.Error, "UserAuthenticationMethod.ReadWrite.All"),
            (tap.Error, "UserAuthenticationMethod.ReadWrite.All"),
            (sessions.Error, "User.RevokeSessions.All"),
            (reset.Error, "UserAuthenticationMethod.ReadWrite.All"),
        })
        {
            Assert.Equal(IdpErrorKind.AccessDenied, result?.Kind);
            Assert.Equal("Authorization_RequestDenied", result?.Code);
            Assert.Contains("application permission " + permission + ",", result?.AgentMessage, StringComparison.Ordinal);
            Assert.DoesNotContain("privileged", result?.AgentMessage, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Equal((0, 0, methods), (grace.TemporaryAccessPassesIssued, grace.SessionsRevoked, grace.Methods.Count));
    }

    [Fact]
    public async Task Entra_TapPolicyDisabled_TapUnavailable_WithTheReason()
    {
        _emulator.State.EntraTapPolicy = new TapPolicySettings { Enabled = false };

        var report = await CheckAsync(Entra(GraphFull, GraphSecret));

        Assert.Equal(CapabilityState.Unavailable, report.For(IdpOperation.IssueTemporaryAccess).State);
        Assert.Contains("disabled", report.For(IdpOperation.IssueTemporaryAccess).Reason, StringComparison.Ordinal);
        Assert.Equal(CapabilityState.Available, report.For(IdpOperation.ResetFactors).State);
    }

    [Fact]
    public async Task Entra_WrongSecret_CredentialsUnavailable_NothingClaimedAvailable()
    {
        var report = await CheckAsync(Entra(GraphFull, "wrong-secret"));

        Assert.Equal(CapabilityState.Unavailable, report.Credentials);
        Assert.Contains("invalid_client", Check(report, IdpCapabilityReport.CredentialsCheck).Detail, StringComparison.Ordinal);
        Assert.All(report.Operations, o => Assert.Equal(CapabilityState.Unavailable, o.State));
    }

    [Fact]
    public async Task Entra_Down_EverythingUnknown()
    {
        var report = await CheckAsync(Entra(GraphFull, GraphSecret, ClosedPort()));

        Assert.Equal(CapabilityState.Unknown, report.Credentials);
        Assert.All(report.Operations, o => Assert.Equal(CapabilityState.Unknown, o.State));
    }

    [Fact]
    public async Task AuditLog_ReconciliationOff_NotRead_ReportedUnknownWithTheReason()
    {
        var before = _emulator.State.Requests.Count(r => r.PathAndQuery.StartsWith("/api/v1/logs", StringComparison.Ordinal));

        var report = await CheckAsync(Okta(null));

        var log = report.For(IdpOperation.ReadAuditLog);
        Assert.Equal(CapabilityState.Unknown, log.State);
        Assert.Contains("Reconciliation is off", log.Reason, StringComparison.Ordinal);
        Assert.Equal(before, _emulator.State.Requests.Count(r => r.PathAndQuery.StartsWith("/api/v1/logs", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task AuditLog_OktaApiToken_ReconciliationOn_OneHarmlessRead_Available()
    {
        var before = _emulator.State.Requests.Count(r => r.PathAndQuery.StartsWith("/api/v1/logs", StringComparison.Ordinal));

        var report = await CheckAsync(Okta(null, readsAuditLog: true));

        Assert.Equal(before + 1, _emulator.State.Requests.Count(r => r.PathAndQuery.StartsWith("/api/v1/logs", StringComparison.Ordinal)));
        Assert.Equal(CapabilityState.Available, report.For(IdpOperation.ReadAuditLog).State);
        Assert.Equal(CapabilityState.Available, Check(report, "scope:okta.logs.read").State);
    }

    [Fact]
    public async Task AuditLog_OktaServiceAppWithoutTheLogsScope_Unavailable_SaysWhatIsMissing()
    {
        var report = await CheckAsync(Okta(new OktaServiceApp(NoManageApp, NoManageScopes), readsAuditLog: true));

        var log = report.For(IdpOperation.ReadAuditLog);
        Assert.Equal(CapabilityState.Unavailable, log.State);
        Assert.Contains("okta.logs.read", log.Reason, StringComparison.Ordinal);
        Assert.Equal(CapabilityState.Available, report.For(IdpOperation.ReadUsers).State);
    }

    [Fact]
    public async Task AuditLog_GraphAppWithoutAuditLogReadAll_Unavailable_NamesThePermission()
    {
        var full = await CheckAsync(Entra(GraphFull, GraphSecret, readsAuditLog: true));
        var readOnly = await CheckAsync(Entra(GraphReadOnly, GraphSecret, readsAuditLog: true));

        Assert.Equal(CapabilityState.Available, full.For(IdpOperation.ReadAuditLog).State);
        Assert.Equal(CapabilityState.Unavailable, readOnly.For(IdpOperation.ReadAuditLog).State);
        Assert.Contains("AuditLog.Read.All", readOnly.For(IdpOperation.ReadAuditLog).Reason, StringComparison.Ordinal);
        Assert.Equal(CapabilityState.Unavailable, Check(readOnly, "permission:AuditLog.Read.All").State);
    }

    private static CapabilityCheck Check(IdpCapabilityReport report, string name) => Assert.Single(report.Checks, c => c.Name == name);

    private static async Task<IdpCapabilityReport> CheckAsync(ICallerDirectory directory) =>
        await Assert.IsAssignableFrom<IIdpCapabilityCheck>(directory).CheckAsync();

    private ICallerDirectoryFactory Factory() => _services.GetRequiredService<ICallerDirectoryFactory>();

    private ICallerDirectory Okta(OktaServiceApp? app, string? token = null, Uri? canonical = null, bool readsAuditLog = false) =>
        Factory().Create(new IdpConnection("tenant-" + Guid.NewGuid().ToString("N")[..8], IdpKind.Okta, _emulator.BaseUrl, token ?? (app is null ? SswsToken : _key.ExportPkcs8PrivateKeyPem()))
        {
            Okta = new OktaConnectionSettings { ServiceApp = app, CanonicalBaseUrl = canonical },
            ReadsAuditLog = readsAuditLog,
        });

    private ICallerDirectory Entra(string clientId, string secret, Uri? root = null, bool readsAuditLog = false)
    {
        var baseUrl = root ?? _emulator.BaseUrl;
        return _services.GetRequiredKeyedService<ICallerDirectoryFactory>(IdpKind.Entra).Create(new IdpConnection("tenant-entra", IdpKind.Entra, baseUrl, secret)
        {
            Entra = new EntraAppCredentials(DirectoryId, clientId, new Uri(baseUrl, DirectoryId + "/oauth2/v2.0/token")),
            ReadsAuditLog = readsAuditLog,
        });
    }

    /// <summary>A loopback address nothing listens on: an IdP that is down.</summary>
    private static Uri ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }
}
