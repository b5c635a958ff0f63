using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Time.Testing;

namespace Portal.IdpEmulator.Tests;

public sealed class GraphApiTests : IAsyncLifetime
{
    private const string GraphClientId = "5f0c7a38-1a55-4d0e-9a7e-0c1f2b3c4d5e";
    private const string GraphSecret = "graph-secret-for-tests";
    private const string Grace = "grace.caller@entra.example";
    private const string Heidi = "heidi.caller@entra.example";
    private const string Ivan = "ivan.admin@entra.example";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private EmulatorHost _host = null!;

    public async Task InitializeAsync()
    {
        var options = new EmulatorOptions { OktaApiToken = TestEmulator.Token, TimeProvider = _time };
        options.GraphClients.Add(new EmulatorClient(GraphClientId, GraphSecret));
        _host = await EmulatorHost.StartAsync(options);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Token_ClientCredentials_ReturnsBearerToken()
    {
        using var http = TestEmulator.Browser(_host);
        using var response = await RequestToken(http, GraphClientId, GraphSecret);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await TestEmulator.ReadJson(response);
        Assert.Equal("Bearer", json["token_type"]!.GetValue<string>());
        Assert.Equal(3599, json["expires_in"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(json["access_token"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Token_WrongSecret_Returns401InvalidClient()
    {
        using var http = TestEmulator.Browser(_host);
        using var response = await RequestToken(http, GraphClientId, "wrong");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_client", (await TestEmulator.ReadJson(response))["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetUser_NoToken_Returns401InvalidAuthenticationToken()
    {
        using var http = TestEmulator.Browser(_host);
        using var response = await http.GetAsync("v1.0/users/" + Grace);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = (await TestEmulator.ReadJson(response))["error"]!;
        Assert.Equal("InvalidAuthenticationToken", error["code"]!.GetValue<string>());
        Assert.NotNull(error["innerError"]!["request-id"]);
    }

    [Fact]
    public async Task GetUser_ExpiredToken_Returns401()
    {
        using var http = await Graph();
        _time.Advance(TimeSpan.FromHours(1));

        using var response = await http.GetAsync("v1.0/users/" + Grace);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task GetUser_ByUpnAndById_ReturnsSameGuidUser()
    {
        using var http = await Graph();
        var byUpn = await TestEmulator.ReadJson(await http.GetAsync("v1.0/users/" + Grace));
        var id = byUpn["id"]!.GetValue<string>();
        var byId = await TestEmulator.ReadJson(await http.GetAsync("v1.0/users/" + id));

        Assert.True(Guid.TryParseExact(id, "D", out _));
        Assert.Equal(id, _host.State.FindEntraUser(Grace)!.Id);
        Assert.Equal(Grace, byId["userPrincipalName"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetUser_Unknown_Returns404ResourceNotFound()
    {
        using var http = await Graph();
        using var response = await http.GetAsync("v1.0/users/" + Guid.NewGuid());

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("Request_ResourceNotFound", (await TestEmulator.ReadJson(response))["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetManager_Grace_IsRileyAsAGraphUserWithBusinessPhones()
    {
        using var http = await Graph();
        var grace = _host.State.FindEntraUser(Grace)!;
        var riley = _host.State.FindEntraUser("riley.director@entra.example")!;

        var manager = await TestEmulator.ReadJson(await http.GetAsync($"v1.0/users/{grace.Id}/manager?$select=id,userPrincipalName,businessPhones"));
        var user = await TestEmulator.ReadJson(await http.GetAsync($"v1.0/users/{grace.Id}?$expand=manager($select=displayName)"));

        Assert.Equal("#microsoft.graph.user", manager["@odata.type"]!.GetValue<string>());
        Assert.Equal(riley.Id, manager["id"]!.GetValue<string>());
        Assert.Equal("riley.director@entra.example", manager["userPrincipalName"]!.GetValue<string>());
        Assert.Equal("+1 555 0100 141", manager["businessPhones"]![0]!.GetValue<string>());
        Assert.Contains(riley.Methods, m => m.ODataType == "microsoftAuthenticatorAuthenticationMethod");
        Assert.Equal("+1 555 0100 140", user["businessPhones"]![0]!.GetValue<string>());
        Assert.Equal(riley.Id, user["manager"]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetManager_None_Returns404ResourceNotFoundInGraphsErrorShape()
    {
        using var http = await Graph();
        using var response = await http.GetAsync($"v1.0/users/{_host.State.FindEntraUser(Heidi)!.Id}/manager");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = (await TestEmulator.ReadJson(response))["error"]!;
        Assert.Equal("Request_ResourceNotFound", error["code"]!.GetValue<string>());
        Assert.Contains("'manager'", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotNull(error["innerError"]!["request-id"]);
    }

    [Fact]
    public async Task GetManager_Contact_IsAnOrgContact()
    {
        using var http = await Graph();
        var report = _host.State.AddEntraUser("qreport@entra.example", "Qreport Qcaller");
        _host.State.SetEntraManagerContact(report.UserPrincipalName, "Qcontact Qoutside");

        var manager = await TestEmulator.ReadJson(await http.GetAsync($"v1.0/users/{report.Id}/manager"));

        Assert.Equal("#microsoft.graph.orgContact", manager["@odata.type"]!.GetValue<string>());
        Assert.Empty((await TestEmulator.ReadJson(await http.GetAsync($"v1.0/users/{report.Id}")))["businessPhones"]!.AsArray());
    }

    [Fact]
    public void PermissionsFor_ManagerRead_IsAUserRead()
    {
        Assert.Contains("User.Read.All", GraphApi.PermissionsFor("GET", "/users/" + Guid.NewGuid() + "/manager")!);
    }

    [Theory]
    [InlineData("userPrincipalName eq 'grace.caller@entra.example'", 1)]
    [InlineData("mail eq 'heidi.caller@entra.example' or userPrincipalName eq 'nobody@entra.example'", 1)]
    [InlineData("userPrincipalName eq 'x'' or 1 eq 1' or mail eq 'x'' or 1 eq 1'", 0)]
    public async Task ListUsers_SupportedFilter_ReturnsMatches(string filter, int expected)
    {
        using var http = await Graph();
        using var response = await http.GetAsync("v1.0/users?$filter=" + Uri.EscapeDataString(filter) + "&$select=id,userPrincipalName&$top=5");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, (await TestEmulator.ReadJson(response))["value"]!.AsArray().Count);
    }

    [Theory]
    [InlineData("userPrincipalName eq 'x' or 1 eq 1")]
    [InlineData("startswith(userPrincipalName,'g')")]
    [InlineData("displayName eq 'Grace Caller'")]
    [InlineData("userPrincipalName eq 'unterminated")]
    [InlineData("userPrincipalName eq 'a' and mail eq 'b'")]
    public async Task ListUsers_OtherFilter_Returns400(string filter)
    {
        using var http = await Graph();
        using var response = await http.GetAsync("v1.0/users?$filter=" + Uri.EscapeDataString(filter));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await TestEmulator.ReadJson(response))["error"]!["code"]);
    }

    [Fact]
    public async Task ListMethods_Grace_HasGraphODataTypes()
    {
        using var http = await Graph();
        var id = _host.State.FindEntraUser(Grace)!.Id;
        var json = await TestEmulator.ReadJson(await http.GetAsync($"v1.0/users/{id}/authentication/methods"));

        var types = json["value"]!.AsArray().Select(m => m!["@odata.type"]!.GetValue<string>()).ToList();
        Assert.Equal(
            ["#microsoft.graph.passwordAuthenticationMethod", "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod", "#microsoft.graph.softwareOathAuthenticationMethod"],
            types);
    }

    [Fact]
    public async Task IssueTap_Valid_Returns201WithValueOnlyOnCreate()
    {
        using var http = await Graph();
        var id = _host.State.FindEntraUser(Grace)!.Id;

        using var response = await http.PostAsync($"v1.0/users/{id}/authentication/temporaryAccessPassMethods", TestEmulator.JsonBody("""{"lifetimeInMinutes":60,"isUsableOnce":true}"""));
        var json = await TestEmulator.ReadJson(response);
        var listed = await TestEmulator.ReadJson(await http.GetAsync($"v1.0/users/{id}/authentication/methods"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.False(string.IsNullOrEmpty(json["temporaryAccessPass"]!.GetValue<string>()));
        Assert.True(json["isUsableOnce"]!.GetValue<bool>());
        var tap = listed["value"]!.AsArray().Single(m => m!["@odata.type"]!.GetValue<string>() == "#microsoft.graph.temporaryAccessPassAuthenticationMethod");
        Assert.Null(tap!["temporaryAccessPass"]);
        Assert.Equal(1, _host.State.FindEntraUser(Grace)!.TemporaryAccessPassesIssued);
    }

    [Theory]
    [InlineData(9)]
    [InlineData(43201)]
    public async Task IssueTap_LifetimeOutOfRange_Returns400(int minutes)
    {
        using var http = await Graph();
        var id = _host.State.FindEntraUser(Grace)!.Id;

        using var response = await http.PostAsync($"v1.0/users/{id}/authentication/temporaryAccessPassMethods", TestEmulator.JsonBody($$"""{"lifetimeInMinutes":{{minutes}}}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, _host.State.FindEntraUser(Grace)!.TemporaryAccessPassesIssued);
    }

    [Fact]
    public async Task IssueTapAndResetPassword_GlobalAdmin_Return403RequestDenied()
    {
        using var http = await Graph();
        var id = _host.State.FindEntraUser(Ivan)!.Id;

        using var tap = await http.PostAsync($"v1.0/users/{id}/authentication/temporaryAccessPassMethods", TestEmulator.JsonBody("""{"lifetimeInMinutes":60}"""));
        using var password = await http.PatchAsync($"v1.0/users/{id}", TestEmulator.JsonBody("""{"passwordProfile":{"password":"Abcdefgh12!x","forceChangePasswordNextSignIn":true}}"""));

        Assert.Equal(HttpStatusCode.Forbidden, tap.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, password.StatusCode);
        Assert.Equal("Authorization_RequestDenied", (await TestEmulator.ReadJson(password))["error"]!["code"]!.GetValue<string>());
        Assert.Equal(0, _host.State.FindEntraUser(Ivan)!.PasswordResets);
    }

    [Fact]
    public async Task PatchPassword_Complex_Returns204AndRecordsForceChange()
    {
        using var http = await Graph();
        var id = _host.State.FindEntraUser(Heidi)!.Id;

        using var response = await http.PatchAsync($"v1.0/users/{id}", TestEmulator.JsonBody("""{"passwordProfile":{"password":"Abcdefgh12!x","forceChangePasswordNextSignIn":true}}"""));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var user = _host.State.FindEntraUser(Heidi)!;
        Assert.Equal(1, user.PasswordResets);
        Assert.True(user.LastForceChangePasswordNextSignIn);
    }

    [Fact]
    public async Task PatchPassword_TooSimple_Returns400()
    {
        using var http = await Graph();
        var id = _host.State.FindEntraUser(Heidi)!.Id;

        using var response = await http.PatchAsync($"v1.0/users/{id}", TestEmulator.JsonBody("""{"passwordProfile":{"password":"password","forceChangePasswordNextSignIn":true}}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, _host.State.FindEntraUser(Heidi)!.PasswordResets);
    }

    [Fact]
    public async Task RevokeSignInSessions_Returns200ValueTrue()
    {
        using var http = await Graph();
        var id = _host.State.FindEntraUser(Grace)!.Id;

        using var response = await http.PostAsync($"v1.0/users/{id}/revokeSignInSessions", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((await TestEmulator.ReadJson(response))["value"]!.GetValue<bool>());
        Assert.Equal(1, _host.State.FindEntraUser(Grace)!.SessionsRevoked);
    }

    [Fact]
    public async Task DeleteMethod_ThroughItsCollection_Returns204ThroughAnotherReturns404()
    {
        using var http = await Graph();
        var user = _host.State.FindEntraUser(Grace)!;
        var oath = user.Methods.Single(m => m.ODataType == "softwareOathAuthenticationMethod").Id;

        using var wrong = await http.DeleteAsync($"v1.0/users/{user.Id}/authentication/phoneMethods/{oath}");
        using var right = await http.DeleteAsync($"v1.0/users/{user.Id}/authentication/softwareOathMethods/{oath}");

        Assert.Equal(HttpStatusCode.NotFound, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, right.StatusCode);
        Assert.Equal(1, user.MethodsDeleted);
        Assert.DoesNotContain(user.Methods, m => m.Id == oath);
    }

    [Fact]
    public async Task DeleteMethod_DefaultWhileAnotherRemains_Returns400LikeGraphThenDeletableLast()
    {
        using var http = await Graph();
        var user = _host.State.FindEntraUser(Grace)!;
        var authenticator = user.Methods.Single(m => m.ODataType == "microsoftAuthenticatorAuthenticationMethod").Id;
        var oath = user.Methods.Single(m => m.ODataType == "softwareOathAuthenticationMethod").Id;
        Assert.Equal(authenticator, user.DefaultMethodId);

        using var refused = await http.DeleteAsync($"v1.0/users/{user.Id}/authentication/microsoftAuthenticatorMethods/{authenticator}");
        var error = (await TestEmulator.ReadJson(refused))["error"]!;
        using var other = await http.DeleteAsync($"v1.0/users/{user.Id}/authentication/softwareOathMethods/{oath}");
        using var last = await http.DeleteAsync($"v1.0/users/{user.Id}/authentication/microsoftAuthenticatorMethods/{authenticator}");

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("badRequest", error["code"]!.GetValue<string>());
        Assert.Equal("Cannot delete default method with other methods configured. Please change default method before deletion.", error["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NoContent, other.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, last.StatusCode);
        Assert.Null(user.DefaultMethodId);
        Assert.Equal(["passwordAuthenticationMethod"], user.Methods.Select(m => m.ODataType));
    }

    [Fact]
    public async Task PatchPassword_SyncedUser_Returns400OnPremisesMasteredAndSelectShowsSync()
    {
        using var http = await Graph();
        var user = _host.State.FindEntraUser("mallory.synced@entra.example")!;

        using var patch = await http.PatchAsync($"v1.0/users/{user.Id}", new StringContent(
            """{"passwordProfile":{"password":"Xy7!abcdefgh","forceChangePasswordNextSignIn":true}}""", System.Text.Encoding.UTF8, "application/json"));
        var error = (await TestEmulator.ReadJson(patch))["error"]!;
        var synced = await TestEmulator.ReadJson(await http.GetAsync($"v1.0/users/{user.Id}?$select=id,onPremisesSyncEnabled"));
        var cloud = await TestEmulator.ReadJson(await http.GetAsync($"v1.0/users/{_host.State.FindEntraUser(Grace)!.Id}?$select=id,onPremisesSyncEnabled"));

        Assert.Equal(HttpStatusCode.BadRequest, patch.StatusCode);
        Assert.Equal("Request_BadRequest", error["code"]!.GetValue<string>());
        Assert.Contains("on-premises mastered Directory Sync objects", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, user.PasswordResets);
        Assert.True(synced["onPremisesSyncEnabled"]!.GetValue<bool>());
        Assert.Null(cloud["onPremisesSyncEnabled"]);
    }

    [Fact]
    public async Task RoleManagement_EligibleAndGroupRoles_ListedByPrincipalWithDefinition()
    {
        using var http = await Graph();
        var judy = _host.State.FindEntraUser("judy.eligible@entra.example")!;
        var kim = _host.State.FindEntraUser("kim.groupadmin@entra.example")!;
        var filter = Uri.EscapeDataString($"principalId eq '{judy.Id}'");

        var active = await TestEmulator.ReadJson(await http.GetAsync($"v1.0/roleManagement/directory/roleAssignments?$filter={filter}&$expand=roleDefinition"));
        var eligible = await TestEmulator.ReadJson(await http.GetAsync($"v1.0/roleManagement/directory/roleEligibilitySchedules?$filter={filter}&$expand=roleDefinition"));
        var groups = await TestEmulator.ReadJson(await http.GetAsync($"v1.0/users/{kim.Id}/transitiveMemberOf/microsoft.graph.group?$select=id,displayName,isAssignableToRole"));
        using var unfiltered = await http.GetAsync("v1.0/roleManagement/directory/roleAssignments");

        Assert.Empty(active["value"]!.AsArray());
        var schedule = eligible["value"]!.AsArray().Single()!;
        Assert.Equal("User Administrator", schedule["roleDefinition"]!["displayName"]!.GetValue<string>());
        Assert.StartsWith("/administrativeUnits/", schedule["directoryScopeId"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains(groups["value"]!.AsArray(), g => g!["isAssignableToRole"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.BadRequest, unfiltered.StatusCode);
    }

    /// <summary>A user's groups paged as Graph pages directory objects: 100 by default, $top up to 999, an @odata.nextLink to the end.</summary>
    [Theory]
    [InlineData("", new[] { 100, 100, 100, 50 })]
    [InlineData("&$top=999", new[] { 350 })]
    [InlineData("&$top=120", new[] { 120, 120, 110 })]
    public async Task TransitiveGroups_Paged_NextLinksFollowedToTheEnd(string top, int[] sizes)
    {
        using var http = await Graph();
        var upn = $"g{Guid.NewGuid():N}@entra.example";
        var user = _host.State.AddEntraUser(upn, "Many Groups");
        _host.State.AddToEntraGroups(upn, "Project", 350);

        var seen = new List<int>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        Uri? next = new(http.BaseAddress!, $"v1.0/users/{user.Id}/transitiveMemberOf/graph.group?$select=id,displayName,isAssignableToRole{top}");
        while (next is not null && seen.Count < 10)
        {
            var page = await TestEmulator.ReadJson(await http.GetAsync(next));
            var value = page["value"]!.AsArray();
            seen.Add(value.Count);
            ids.UnionWith(value.Select(g => g!["id"]!.GetValue<string>()));
            next = page["@odata.nextLink"] is { } link ? new Uri(link.GetValue<string>()) : null;
            Assert.True(next is null || next.Authority == _host.BaseUrl.Authority);
        }

        Assert.Equal(sizes, seen);
        Assert.Equal(350, ids.Count);
    }

    [Fact]
    public async Task FailNext_GraphPath_Returns429WithRetryAfterAndRecordsRequest()
    {
        using var http = await Graph();
        var id = _host.State.FindEntraUser(Grace)!.Id;
        _host.State.FailNext(429, "/revokeSignInSessions");

        using var response = await http.PostAsync($"v1.0/users/{id}/revokeSignInSessions", null);

        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(30), response.Headers.RetryAfter?.Delta);
        Assert.Equal("TooManyRequests", (await TestEmulator.ReadJson(response))["error"]!["code"]!.GetValue<string>());
        Assert.Equal(0, _host.State.FindEntraUser(Grace)!.SessionsRevoked);
        Assert.Contains(_host.State.Requests, r => r.Method == "POST" && r.PathAndQuery.EndsWith("/revokeSignInSessions", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Outage_GraphCall_Returns503()
    {
        using var http = await Graph();
        _host.State.SetOutage(true);

        using var response = await http.GetAsync("v1.0/users/" + Grace);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task MemberOfDirectoryRoles_AdminHasGlobalAdministrator_CallerHasNone()
    {
        using var http = await Graph();
        var admin = await TestEmulator.ReadJson(await http.GetAsync($"v1.0/users/{_host.State.FindEntraUser(Ivan)!.Id}/memberOf/microsoft.graph.directoryRole"));
        var caller = await TestEmulator.ReadJson(await http.GetAsync($"v1.0/users/{_host.State.FindEntraUser(Grace)!.Id}/memberOf/graph.directoryRole"));

        Assert.Equal("Global Administrator", admin["value"]!.AsArray().Single()!["displayName"]!.GetValue<string>());
        Assert.Empty(caller["value"]!.AsArray());
    }

    private static Task<HttpResponseMessage> RequestToken(HttpClient http, string clientId, string secret) =>
        http.PostAsync("contoso-tenant/oauth2/v2.0/token", new FormUrlEncodedContent(
        [
            new("grant_type", "client_credentials"),
            new("client_id", clientId),
            new("client_secret", secret),
            new("scope", "https://graph.microsoft.com/.default"),
        ]));

    private async Task<HttpClient> Graph()
    {
        var http = TestEmulator.Browser(_host);
        using var response = await RequestToken(http, GraphClientId, GraphSecret);
        var token = (await TestEmulator.ReadJson(response))["access_token"]!.GetValue<string>();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}
