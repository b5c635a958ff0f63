using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Portal.Idp.Entra;
using Portal.Idp.Okta;
using Portal.IdpEmulator;

namespace Portal.Idp.Tests.Integration;

/// <summary>
/// Reconciliation's read of the IdP's own log through both adapters, over real HTTP against the emulator's Okta System
/// Log (answers checked against Okta's spec in the emulator's tests) and Graph directory audits, through the real Graph
/// SDK: what an administrator did at the IdP's console is read as such, the portal's own actions are recognised by its
/// credential, and paging reads every event once.
/// </summary>
public sealed class AccountActionLogTests : IAsyncLifetime
{
    private const string SswsToken = "reconciliation-okta-token-5d2e";
    private const string LogsApp = "0oa-recon-logs";
    private const string NoLogsApp = "0oa-recon-nologs";
    private const string GraphApp = "5b2d4f60-7a8b-4c9d-8e0f-1a2b3c4d5e01";
    private const string GraphNoAudit = "5b2d4f60-7a8b-4c9d-8e0f-1a2b3c4d5e02";
    private const string GraphSecret = "reconciliation-graph-secret";
    private const string DirectoryId = "2c4e6a8b-0d1f-4a3b-9c5d-7e8f9a0b1c2d";
    private const string Grace = "grace.caller@entra.example";
    private const string Heidi = "heidi.caller@entra.example";
    private static readonly DateTimeOffset LongAgo = DateTimeOffset.UtcNow.AddDays(-1);
    private static readonly string[] LogsScopes = ["okta.users.read", "okta.users.manage", "okta.logs.read"];
    private static readonly string[] ManageScopes = ["okta.users.read", "okta.users.manage"];

    private readonly RSA _key = RSA.Create(2048);
    private EmulatorHost _emulator = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        var options = new EmulatorOptions { OktaApiToken = SswsToken };
        var publicKey = RSA.Create();
        publicKey.ImportParameters(_key.ExportParameters(false));
        options.OktaServiceApps.Add(new EmulatorServiceApp(LogsApp, publicKey, LogsScopes) { RequireDpop = false });
        options.OktaServiceApps.Add(new EmulatorServiceApp(NoLogsApp, publicKey, ManageScopes) { RequireDpop = false });
        options.GraphClients.Add(new EmulatorClient(GraphApp, GraphSecret));
        options.GraphClients.Add(new EmulatorClient(GraphNoAudit, GraphSecret) { ApplicationPermissions = [.. EmulatorClient.PortalGraphPermissions.Where(p => p != "AuditLog.Read.All")] });
        _emulator = await EmulatorHost.StartAsync(options);
        _services = new ServiceCollection().AddLogging().AddPortalIdp().AddPortalEntra().BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _emulator.DisposeAsync();
        _key.Dispose();
    }

    [Fact]
    public async Task Okta_ApiToken_AnAdminsResetAtTheConsole_ReadAsSuch_ThePortalsOwnRecognisedByTheTokenId()
    {
        var portals = NewCaller();
        var admins = NewCaller();
        var directory = OktaSsws(EmulatorAdmins.OktaApiTokenId);
        Assert.True((await directory.ResetPasswordAsync(portals.Id, PasswordResetKind.OneTimeLink)).IsSuccess);
        _emulator.State.ActAsAdmin(AdminAction.ResetPassword, admins.Login, IdpSide.Okta);

        var events = await ReadAllAsync(directory);

        var own = Assert.Single(events, e => e.TargetId == portals.Id);
        Assert.True(own.ByPortal);
        Assert.Equal(AccountActionKind.PasswordReset, own.Kind);
        var outside = Assert.Single(events, e => e.TargetId == admins.Id);
        Assert.False(outside.ByPortal);
        Assert.Equal(AccountActionKind.PasswordReset, outside.Kind);
        Assert.Equal(EmulatorAdmins.OktaAdminId, outside.ActorId);
        Assert.Equal(EmulatorAdmins.OktaAdminLogin, outside.ActorLogin);
        Assert.False(outside.ActorIsApplication);
        Assert.Equal(admins.Login, outside.TargetLogin);
    }

    [Fact]
    public async Task Okta_ApiToken_WithoutItsId_ThePortalsOwnLookLikeItsAdmins()
    {
        // Why Idp:Okta:ApiTokenId is required for reconciliation with a token: Okta logs the token's owner as the actor.
        var portals = NewCaller();
        var directory = OktaSsws(tokenId: null);
        Assert.True((await directory.RevokeSessionsAsync(portals.Id)).IsSuccess);

        var events = await ReadAllAsync(directory);

        var own = Assert.Single(events, e => e.TargetId == portals.Id && e.Kind == AccountActionKind.SessionsRevoked);
        Assert.False(own.ByPortal);
        Assert.Equal(EmulatorAdmins.OktaApiTokenOwnerId, own.ActorId);
    }

    [Fact]
    public async Task Okta_EachHelpdeskActionOfAnAdmin_ReadAsItsKind()
    {
        var user = NewCaller();
        foreach (var action in new[] { AdminAction.ResetMfa, AdminAction.ClearSessions, AdminAction.IssueTemporaryAccess, AdminAction.ResetPassword })
        {
            _emulator.State.ActAsAdmin(action, user.Login, IdpSide.Okta);
        }

        var kinds = (await ReadAllAsync(OktaSsws(EmulatorAdmins.OktaApiTokenId))).Where(e => e.TargetId == user.Id).Select(e => e.Kind).ToList();

        Assert.Equal([AccountActionKind.FactorsReset, AccountActionKind.SessionsRevoked, AccountActionKind.TemporaryAccessIssued, AccountActionKind.PasswordReset], kinds);
    }

    [Fact]
    public async Task Okta_ManyEvents_ReadAcrossPagesByTheNextLink_EachOnce_ThenCaughtUpWithNothingNew()
    {
        var directory = OktaSsws(EmulatorAdmins.OktaApiTokenId);
        var (_, cursor) = await ReadToEndAsync(directory, null);
        var user = NewCaller();
        var count = OktaCallerDirectory.LogPageSize * 2 + 17;
        for (var i = 0; i < count; i++)
        {
            _emulator.State.ActAsAdmin(AdminAction.ClearSessions, user.Login, IdpSide.Okta);
        }

        var (events, next) = await ReadToEndAsync(directory, cursor);
        var again = await directory.ReadAccountActionsAsync(next, LongAgo);

        Assert.Equal(count, events.Count(e => e.TargetId == user.Id));
        Assert.Equal(events.Count, events.Select(e => e.EventId).Distinct().Count());
        Assert.True(again.IsSuccess, again.Error?.AgentMessage);
        Assert.Empty(again.Value.Events);
        Assert.True(again.Value.CaughtUp);
        Assert.StartsWith("/api/v1/logs?", again.Value.Cursor, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/v1/users?limit=200")]
    [InlineData("https://attacker.example/api/v1/logs?after=1")]
    [InlineData("/api/v1/logs/../users?x=1")]
    [InlineData("/api/v1/logs")]
    public async Task Okta_AStoredCursorThatIsNotASystemLogQuery_RefusedWithoutARequest(string cursor)
    {
        var directory = OktaSsws(EmulatorAdmins.OktaApiTokenId);
        var before = _emulator.State.Requests.Count;

        var read = await directory.ReadAccountActionsAsync(cursor, LongAgo);

        Assert.Equal("bad_cursor", read.Error?.Code);
        Assert.Equal(before, _emulator.State.Requests.Count);
    }

    [Fact]
    public async Task Okta_ServiceApp_ItsOwnActionsRecognisedByItsClientId_WithoutTheLogsScope_RefusedNamingIt()
    {
        var portals = NewCaller();
        var admins = NewCaller();
        var withLogs = OktaServiceApp(LogsApp, LogsScopes);
        Assert.True((await withLogs.RevokeSessionsAsync(portals.Id)).IsSuccess);
        _emulator.State.ActAsAdmin(AdminAction.ClearSessions, admins.Login, IdpSide.Okta);

        var events = await ReadAllAsync(withLogs);
        var refused = await OktaServiceApp(NoLogsApp, ManageScopes).ReadAccountActionsAsync(null, LongAgo);

        var own = Assert.Single(events, e => e.TargetId == portals.Id);
        Assert.True(own.ByPortal);
        Assert.True(own.ActorIsApplication);
        Assert.False(Assert.Single(events, e => e.TargetId == admins.Id).ByPortal);
        Assert.Equal(IdpErrorKind.AccessDenied, refused.Error?.Kind);
        Assert.Contains("okta.logs.read", refused.Error!.AgentMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Entra_AnAdminsTapAtTheAdminCenter_ReadAsSuch_ThePortalsOwnRecognisedByItsAppId()
    {
        var directory = Entra(GraphApp);
        var grace = _emulator.State.FindEntraUser(Grace)!;
        var heidi = _emulator.State.FindEntraUser(Heidi)!;
        Assert.True((await directory.RevokeSessionsAsync(grace.Id)).IsSuccess);
        _emulator.State.ActAsAdmin(AdminAction.IssueTemporaryAccess, Heidi, IdpSide.Entra);

        var read = await directory.ReadAccountActionsAsync(null, LongAgo);

        Assert.True(read.IsSuccess, read.Error?.AgentMessage);
        var own = Assert.Single(read.Value.Events, e => e.TargetId == grace.Id);
        Assert.True(own.ByPortal);
        Assert.Equal(AccountActionKind.SessionsRevoked, own.Kind);
        var outside = Assert.Single(read.Value.Events, e => e.TargetId == heidi.Id);
        Assert.False(outside.ByPortal);
        Assert.Equal(AccountActionKind.TemporaryAccessIssued, outside.Kind);
        Assert.Equal(EmulatorAdmins.EntraAdminId, outside.ActorId);
        Assert.Equal(EmulatorAdmins.EntraAdminUpn, outside.ActorLogin);
    }

    [Fact]
    public async Task Entra_TheNextRead_StartsBeforeTheNewestEvent_RepeatsItUnderTheSameId()
    {
        // Entra's log lags: each read goes back by an overlap; the event id is what keeps a repeat from counting twice.
        var directory = Entra(GraphApp);
        _emulator.State.ActAsAdmin(AdminAction.ClearSessions, Grace, IdpSide.Entra);
        var first = await directory.ReadAccountActionsAsync(null, LongAgo);

        var second = await directory.ReadAccountActionsAsync(first.Value.Cursor, LongAgo);

        Assert.True(second.IsSuccess, second.Error?.AgentMessage);
        var newest = first.Value.Events.MaxBy(e => e.At)!;
        Assert.Contains(second.Value.Events, e => e.EventId == newest.EventId);
        Assert.Equal("bad_cursor", (await directory.ReadAccountActionsAsync("x:not-a-time", LongAgo)).Error?.Code);

        // A read whose overlap finds nothing keeps the position where it was: it never creeps back by the overlap.
        var ahead = "c:" + DateTimeOffset.UtcNow.AddDays(1).UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var quiet = await directory.ReadAccountActionsAsync(ahead, LongAgo);
        Assert.Empty(quiet.Value.Events);
        Assert.Equal(ahead, quiet.Value.Cursor);
    }

    [Fact]
    public async Task Entra_WithoutAuditLogReadAll_RefusedNamingThePermission()
    {
        var read = await Entra(GraphNoAudit).ReadAccountActionsAsync(null, LongAgo);

        Assert.Equal(IdpErrorKind.AccessDenied, read.Error?.Kind);
        Assert.Contains("AuditLog.Read.All", read.Error!.AgentMessage, StringComparison.Ordinal);
    }

    private static async Task<List<AccountActionEvent>> ReadAllAsync(ICallerDirectory directory) => (await ReadToEndAsync(directory, null)).Events;

    private static async Task<(List<AccountActionEvent> Events, string Cursor)> ReadToEndAsync(ICallerDirectory directory, string? cursor)
    {
        var events = new List<AccountActionEvent>();
        for (var pages = 0; pages < 50; pages++)
        {
            var page = await directory.ReadAccountActionsAsync(cursor, LongAgo);
            Assert.True(page.IsSuccess, page.Error?.AgentMessage);
            events.AddRange(page.Value.Events);
            cursor = page.Value.Cursor;
            if (page.Value.CaughtUp)
            {
                return (events, cursor);
            }
        }

        throw new InvalidOperationException("The log never caught up.");
    }

    private DemoCaller NewCaller()
    {
        var login = $"r{Guid.NewGuid():N}@demo.example";
        return _emulator.State.AddCaller(login, login, "Recon", "Caller");
    }

    private ICallerDirectory OktaSsws(string? tokenId) =>
        _services.GetRequiredService<ICallerDirectoryFactory>().Create(new IdpConnection("tenant-recon", IdpKind.Okta, _emulator.BaseUrl, SswsToken)
        {
            Okta = new OktaConnectionSettings { ApiTokenId = tokenId },
            ReadsAuditLog = true,
        });

    private ICallerDirectory OktaServiceApp(string clientId, IReadOnlyList<string> scopes) =>
        _services.GetRequiredService<ICallerDirectoryFactory>().Create(new IdpConnection("tenant-" + clientId, IdpKind.Okta, _emulator.BaseUrl, _key.ExportPkcs8PrivateKeyPem())
        {
            Okta = new OktaConnectionSettings { ServiceApp = new OktaServiceApp(clientId, scopes, UseDpop: false) },
            ReadsAuditLog = true,
        });

    private ICallerDirectory Entra(string clientId) =>
        _services.GetRequiredKeyedService<ICallerDirectoryFactory>(IdpKind.Entra).Create(new IdpConnection("tenant-entra", IdpKind.Entra, _emulator.BaseUrl, GraphSecret)
        {
            Entra = new EntraAppCredentials(DirectoryId, clientId, new Uri(_emulator.BaseUrl, DirectoryId + "/oauth2/v2.0/token")),
            ReadsAuditLog = true,
        });
}
