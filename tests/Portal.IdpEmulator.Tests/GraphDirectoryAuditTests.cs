using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Portal.IdpEmulator.Tests;

/// <summary>
/// Graph's <c>GET /auditLogs/directoryAudits</c> over real HTTP: the portal's app-only calls are initiated by its app,
/// an administrator's actions in the admin center by that user; the time filter, order and nextLink paging.
/// </summary>
public sealed class GraphDirectoryAuditTests : IAsyncLifetime
{
    private const string GraphClientId = "5f0c7a38-1a55-4d0e-9a7e-0c1f2b3c4d5e";
    private const string NoAuditClientId = "0d6f4c1e-3a2b-4c5d-8e9f-a0b1c2d3e4f5";
    private const string GraphSecret = "graph-secret-for-tests";
    private const string Grace = "grace.caller@entra.example";
    private const string Heidi = "heidi.caller@entra.example";
    private const string Judy = "judy.eligible@entra.example";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 9, 0, 0, TimeSpan.Zero));
    private EmulatorHost _host = null!;

    public async Task InitializeAsync()
    {
        var options = new EmulatorOptions { OktaApiToken = TestEmulator.Token, TimeProvider = _time };
        options.GraphClients.Add(new EmulatorClient(GraphClientId, GraphSecret) { DisplayName = "Helpdesk Portal (test)" });
        options.GraphClients.Add(new EmulatorClient(NoAuditClientId, GraphSecret) { ApplicationPermissions = [.. EmulatorClient.PortalGraphPermissions.Where(p => p != "AuditLog.Read.All")] });
        _host = await EmulatorHost.StartAsync(options);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task PortalCallsAndAnAdminsAction_AuditedWithGraphsActivitiesAndInitiators()
    {
        using var graph = await Graph(GraphClientId);
        var grace = _host.State.FindEntraUser(Grace)!;
        await Succeeds(graph.PatchAsync($"v1.0/users/{grace.Id}", TestEmulator.JsonBody("""{"passwordProfile":{"password":"Correct-Horse-9","forceChangePasswordNextSignIn":true}}""")));
        _time.Advance(TimeSpan.FromSeconds(1));
        await Succeeds(graph.PostAsync($"v1.0/users/{grace.Id}/authentication/temporaryAccessPassMethods", TestEmulator.JsonBody("""{"lifetimeInMinutes":60}""")));
        _time.Advance(TimeSpan.FromSeconds(1));
        var oath = grace.Methods.Single(m => m.ODataType == "softwareOathAuthenticationMethod").Id;
        await Succeeds(graph.DeleteAsync($"v1.0/users/{grace.Id}/authentication/softwareOathMethods/{oath}"));
        _time.Advance(TimeSpan.FromSeconds(1));
        await Succeeds(graph.PostAsync($"v1.0/users/{grace.Id}/revokeSignInSessions", null));
        _time.Advance(TimeSpan.FromSeconds(1));
        _host.State.ActAsAdmin(AdminAction.ResetPassword, Heidi, IdpSide.Entra);

        var body = await Get(graph, "v1.0/auditLogs/directoryAudits?$orderby=activityDateTime%20asc");
        var audits = body["value"]!.AsArray();

        Assert.Equal("https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits", Text(body, "@odata.context"));
        Assert.Null(body["@odata.nextLink"]);
        Assert.Equal(
            ["Reset user password", "Admin registered security info", "Admin deleted security info", "Update StsRefreshTokenValidFrom Timestamp", "Reset user password"],
            audits.Select(a => Text(a!, "activityDisplayName")));
        Assert.Equal(["Core Directory", "Authentication Methods", "Authentication Methods", "Core Directory", "Core Directory"], audits.Select(a => Text(a!, "loggedByService")));
        Assert.Equal("Admin registered temporary access pass method for user", Text(audits[1]!, "resultReason"));
        Assert.Equal("Admin deleted software OATH token method for user", Text(audits[2]!, "resultReason"));

        var reset = audits[0]!;
        Assert.True(Guid.TryParse(Text(reset, "id"), out _));
        Assert.True(Guid.TryParse(Text(reset, "correlationId"), out _));
        Assert.Equal("UserManagement", Text(reset, "category"));
        Assert.Equal("success", Text(reset, "result"));
        Assert.Equal("Update", Text(reset, "operationType"));
        Assert.Equal("2026-11-30T09:00:00.0000000Z", Text(reset, "activityDateTime"));
        Assert.Null(reset["initiatedBy"]!["user"]);
        var app = reset["initiatedBy"]!["app"]!;
        Assert.Equal(GraphClientId, Text(app, "appId"));
        Assert.Equal("Helpdesk Portal (test)", Text(app, "displayName"));
        Assert.True(Guid.TryParse(Text(app, "servicePrincipalId"), out _));
        var target = Assert.Single(reset["targetResources"]!.AsArray())!;
        Assert.Equal(grace.Id, Text(target, "id"));
        Assert.Equal("User", Text(target, "type"));
        Assert.Equal(Grace, Text(target, "userPrincipalName"));
        Assert.Equal("Grace Caller", Text(target, "displayName"));
        Assert.Empty(target["modifiedProperties"]!.AsArray());
        Assert.Empty(reset["additionalDetails"]!.AsArray());

        var byAdmin = audits[4]!;
        Assert.Null(byAdmin["initiatedBy"]!["app"]);
        var admin = byAdmin["initiatedBy"]!["user"]!;
        Assert.Equal(EmulatorAdmins.EntraAdminId, Text(admin, "id"));
        Assert.Equal(EmulatorAdmins.EntraAdminUpn, Text(admin, "userPrincipalName"));
        Assert.Equal(EmulatorAdmins.EntraAdminName, Text(admin, "displayName"));
        Assert.Equal(EmulatorAdmins.AdminIpAddress, Text(admin, "ipAddress"));
        Assert.Equal(1, _host.State.FindEntraUser(Heidi)!.PasswordResets);
    }

    [Fact]
    public async Task TopTwo_FiveAudits_PagedThroughNextLinks_NewestFirstByDefault()
    {
        using var graph = await Graph(GraphClientId);
        foreach (var upn in new[] { Grace, Heidi, Judy, Grace, Heidi })
        {
            _host.State.ActAsAdmin(AdminAction.ClearSessions, upn, IdpSide.Entra);
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        var times = new List<string>();
        var sizes = new List<int>();
        string? url = "v1.0/auditLogs/directoryAudits?$top=2";
        while (url is not null)
        {
            var page = await Get(graph, url);
            var value = page["value"]!.AsArray();
            sizes.Add(value.Count);
            times.AddRange(value.Select(a => Text(a!, "activityDateTime")));
            url = page["@odata.nextLink"]?.GetValue<string>();
            if (url is not null)
            {
                Assert.StartsWith(new Uri(_host.BaseUrl, "v1.0/auditLogs/directoryAudits?").AbsoluteUri, url, StringComparison.Ordinal);
                Assert.Contains("$skiptoken=", url, StringComparison.Ordinal);
            }
        }

        Assert.Equal([2, 2, 1], sizes);
        Assert.Equal(times.OrderDescending(StringComparer.Ordinal), times);
        Assert.Equal(5, times.Distinct().Count());
    }

    [Fact]
    public async Task Filter_TimeWindowAndActivity_OnlyThose_PagedAscending()
    {
        using var graph = await Graph(GraphClientId);
        _host.State.ActAsAdmin(AdminAction.ClearSessions, Grace, IdpSide.Entra);
        _time.Advance(TimeSpan.FromMinutes(10));
        _host.State.ActAsAdmin(AdminAction.IssueTemporaryAccess, Grace, IdpSide.Entra);
        _host.State.ActAsAdmin(AdminAction.ClearSessions, Heidi, IdpSide.Entra);
        _host.State.ActAsAdmin(AdminAction.ClearSessions, Judy, IdpSide.Entra);
        _time.Advance(TimeSpan.FromMinutes(10));
        _host.State.ActAsAdmin(AdminAction.ClearSessions, Grace, IdpSide.Entra);

        var since = await Get(graph, "v1.0/auditLogs/directoryAudits?$filter=" + Uri.EscapeDataString("activityDateTime ge 2026-11-30T09:05:00Z"));
        var window = "activityDateTime ge 2026-11-30T09:05:00Z and activityDateTime le 2026-11-30T09:15:00Z and activityDisplayName eq 'Update StsRefreshTokenValidFrom Timestamp'";
        var first = await Get(graph, "v1.0/auditLogs/directoryAudits?$top=1&$orderby=activityDateTime%20asc&$filter=" + Uri.EscapeDataString(window));
        var second = await Get(graph, first["@odata.nextLink"]!.GetValue<string>());

        Assert.Equal(4, since["value"]!.AsArray().Count);
        Assert.Equal(Heidi, Text(first["value"]![0]!["targetResources"]![0]!, "userPrincipalName"));
        Assert.Equal(Judy, Text(second["value"]![0]!["targetResources"]![0]!, "userPrincipalName"));
        Assert.Null(second["@odata.nextLink"]);
    }

    [Fact]
    public async Task WithoutAuditLogReadAll_Returns403RequestDenied()
    {
        using var graph = await Graph(NoAuditClientId);

        using var response = await graph.GetAsync("v1.0/auditLogs/directoryAudits");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("Authorization_RequestDenied", (await TestEmulator.ReadJson(response))["error"]!["code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("$top=0")]
    [InlineData("$top=1001")]
    [InlineData("$orderby=activityDisplayName")]
    [InlineData("$skiptoken=bm90LWEtdG9rZW4")]
    [InlineData("$count=true")]
    [InlineData("$filter=activityDateTime%20gt%202026-11-30T09%3A00%3A00Z")]
    [InlineData("$filter=activityDateTime%20ge%20yesterday")]
    [InlineData("$filter=startswith(activityDisplayName%2C%27Reset%27)")]
    [InlineData("$filter=activityDisplayName%20eq%20%27a%27%20or%20activityDisplayName%20eq%20%27b%27")]
    [InlineData("$filter=category%20eq%20%27UserManagement%27")]
    public async Task UnsupportedQuery_Returns400BadRequest(string query)
    {
        using var graph = await Graph(GraphClientId);

        using var response = await graph.GetAsync("v1.0/auditLogs/directoryAudits?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("BadRequest", (await TestEmulator.ReadJson(response))["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task RefusedCall_NotAudited_EntraHasNoAdminUnlock()
    {
        using var graph = await Graph(GraphClientId);
        var ivan = _host.State.FindEntraUser("ivan.admin@entra.example")!;

        using var refused = await graph.PostAsync($"v1.0/users/{ivan.Id}/authentication/temporaryAccessPassMethods", TestEmulator.JsonBody("""{"lifetimeInMinutes":60}"""));

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Throws<InvalidOperationException>(() => _host.State.ActAsAdmin(AdminAction.Unlock, Grace, IdpSide.Entra));
        Assert.Empty((await Get(graph, "v1.0/auditLogs/directoryAudits"))["value"]!.AsArray());
    }

    [Fact]
    public void AdminMfaReset_DeletesEveryMethodDefaultLast_OneAuditEach()
    {
        var grace = _host.State.FindEntraUser(Grace)!;

        var recorded = _host.State.ActAsAdmin(AdminAction.ResetMfa, Grace, IdpSide.Entra);

        Assert.Equal(["softwareOathAuthenticationMethod", "microsoftAuthenticatorAuthenticationMethod"], recorded.Select(r => r.Detail));
        Assert.All(recorded, r => Assert.Equal(AdminActivityKind.FactorRemoved, r.Kind));
        Assert.Equal(["passwordAuthenticationMethod"], grace.Methods.Select(m => m.ODataType));
    }

    private static string Text(JsonNode node, string name) => node[name]!.GetValue<string>();

    private static async Task Succeeds(Task<HttpResponseMessage> call)
    {
        using var response = await call;
        Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage!.RequestUri}: {(int)response.StatusCode}");
    }

    private static async Task<JsonNode> Get(HttpClient graph, string url)
    {
        using var response = await graph.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await TestEmulator.ReadJson(response);
    }

    private async Task<HttpClient> Graph(string clientId)
    {
        var http = TestEmulator.Browser(_host);
        using var response = await http.PostAsync("contoso-tenant/oauth2/v2.0/token", new FormUrlEncodedContent(
        [
            new("grant_type", "client_credentials"),
            new("client_id", clientId),
            new("client_secret", GraphSecret),
            new("scope", "https://graph.microsoft.com/.default"),
        ]));
        var token = (await TestEmulator.ReadJson(response))["access_token"]!.GetValue<string>();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}
