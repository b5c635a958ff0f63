using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Portal.Storage;
using Portal.Web.Agents;
using Portal.Web.Tenancy;

namespace Portal.Web.Tests;

/// <summary>
/// The security team's API for heightened-threat mode (docs/audit.md, "Heightened-threat mode API"; docs/tenancy.md):
/// a <c>heightened:write</c> key switches the mode through the console's own path, so the console refuses a code at
/// once, the audit names the key and the webhook receives the signed alarm; keys open only the routes of their scope.
/// </summary>
/// <remarks>
/// One portal (two tenants, a webhook receiver) serves the class, as for <see cref="HeightenedModeTests"/>. The mode is
/// tenant-wide: a test that switches it on switches it off again in its clean-up, and xUnit runs a class's tests one
/// after another. Each test creates its own keys and agents and reads only the audit records written since it began.
/// </remarks>
public sealed partial class HeightenedModeApiTests(HeightenedModeTests.Fixture fixture) : IClassFixture<HeightenedModeTests.Fixture>, IAsyncLifetime
{
    private const string ModePath = "/api/v1/tenants/" + PortalTestHost.TenantId + "/heightened-mode";
    private const string AuditPath = "/api/v1/tenants/" + PortalTestHost.TenantId + "/audit";

    private readonly PortalTestHost _host = fixture.Portal;
    private readonly string _admin = TestPeople.NewAgent(fixture.Portal.Emulator.State, "Helpdesk Admins");
    private readonly string _agent = TestPeople.NewAgent(fixture.Portal.Emulator.State, "Helpdesk Tier 3");
    private readonly string _caller = TestPeople.NewCaller(fixture.Portal.Emulator.State, push: true);
    private HttpClient? _adminBrowser;
    private StoreMark? _mark;

    public async Task InitializeAsync()
    {
        _mark = await StoreMark.TakeAsync(_host.Store, Audit(PortalTestHost.TenantId), TenantAdministration.ChangesCollection(PortalTestHost.TenantId));
        _adminBrowser = await _host.SignInAsync(_admin);
    }

    public async Task DisposeAsync()
    {
        // The next test starts with the mode off, whatever this one left.
        if (Catalog.PolicyOf(PortalTestHost.TenantId)!.HeightenedMode.On)
        {
            Assert.Equal(HttpStatusCode.OK, (await TenancyTestKit.PostAsync(_adminBrowser!, "/admin/policy", "/admin/policy/heightened", ("mode", "off"), ("reason", "threat_over"))).StatusCode);
        }
    }

    [Fact]
    public async Task SoarKey_SwitchesItOn_ConsoleRefusesTheCode_AuditNamesTheKey_AlarmSigned_ThenOffAgain()
    {
        var webhookKey = await fixture.WebhookAsync(_adminBrowser!);
        var alarmsBefore = fixture.Received.Count;
        var (key, keyId) = await CreateKeyAsync("SOAR playbook", ApiKeyScopes.HeightenedWrite);
        _host.Clock.Advance(TimeSpan.FromMinutes(1));

        var on = await PutAsync(key, """{"on": true, "reason": "active_attack"}""");

        Assert.Equal(HttpStatusCode.OK, on.StatusCode);
        Assert.Equal("no-store", on.Headers.CacheControl!.ToString());
        var state = JsonNode.Parse(await on.Content.ReadAsStringAsync())!;
        Assert.True((bool)state["on"]!);
        Assert.Equal("active_attack", (string)state["reason"]!);
        Assert.Equal(_host.Clock.GetUtcNow(), DateTimeOffset.Parse((string)state["since"]!, System.Globalization.CultureInfo.InvariantCulture));
        var read = JsonNode.Parse(await (await SendAsync(HttpMethod.Get, ModePath, key)).Content.ReadAsStringAsync())!;
        Assert.True((bool)read["on"]!);

        // It takes effect at once: the agent console's next code is refused before the IdP sees it.
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var page = await agent.LookupAsync(_caller);
        Assert.Contains("data-field=\"heightened-banner\"", page, StringComparison.Ordinal);
        var factorId = _host.Emulator.State.FindCaller(_caller)!.Factors.First(f => f.FactorType == "token:software:totp").Id;
        var totp = await PortalTestHost.PostFormAsync(agent.Browser, "/verification/totp", PortalTestHost.FormToken(page),
            ("callerRef", PortalTestHost.HiddenValue(ConsoleDriver.FormFor(page, "/verification/push"), "callerRef")), ("factorId", factorId), ("code", _host.Emulator.State.CurrentTotp(_caller)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, totp.StatusCode);
        Assert.Contains("data-code=\"heightened_mode\"", await totp.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The audit names the key where it would name an admin, as for a SIEM pull; the change history has the before/after.
        var switched = Assert.Single(await AuditAsync(), d => (string)d["action"]! == "admin.heightened_mode.on");
        Assert.Equal("succeeded", (string)switched["outcome"]!);
        Assert.Equal("apikey:" + keyId, (string?)switched["agent"]?["subjectId"]);
        var diff = Assert.Single(await _mark!.SinceAsync(TenantAdministration.ChangesCollection(PortalTestHost.TenantId)), d => (string)d.Data["auditRecordId"]! == (string)switched["id"]!);
        Assert.Contains(diff.Data["changes"]!.AsArray(), c => (string)c!["field"]! == "heightenedMode.on" && (string)c["before"]! == "off" && (string)c["after"]! == "on");

        // Off again, by the same key.
        var off = await PutAsync(key, """{"on": false, "reason": "threat_over"}""");
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        Assert.False((bool)JsonNode.Parse(await off.Content.ReadAsStringAsync())!["on"]!);
        Assert.False(Catalog.PolicyOf(PortalTestHost.TenantId)!.HeightenedMode.On);
        Assert.Single(await AuditAsync(), d => (string)d["action"]! == "admin.heightened_mode.off" && (string)d["outcome"]! == "succeeded" && (string?)d["agent"]?["subjectId"] == "apikey:" + keyId);
        var verified = await agent.VerifyByTotpAsync(await agent.LookupAsync(_caller), _host.Emulator.State.CurrentTotp(_caller));
        Assert.Equal(HttpStatusCode.Redirect, verified.StatusCode);

        // Both switches are alarmed, signed, naming the key.
        var alarms = (await fixture.WaitForAsync(alarmsBefore + 2)).Skip(alarmsBefore).ToList();
        Assert.Equal(new[] { "on active_attack", "off threat_over" }, alarms.Select(a => (string)JsonNode.Parse(a.Body)!["reason"]!));
        foreach (var (body, signature) in alarms)
        {
            var json = JsonNode.Parse(body)!;
            Assert.Equal("tenant.heightened_mode", (string)json["type"]!);
            Assert.Equal("apikey:" + keyId, (string)json["agentSubject"]!);
            var t = long.Parse(signature.Split(',')[0]["t=".Length..], System.Globalization.CultureInfo.InvariantCulture);

            // The recipe a receiver follows (docs/tenancy.md), computed here, not by the portal's own function.
            var expected = Convert.ToHexString(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(webhookKey), Encoding.UTF8.GetBytes($"{t}.{body}"))).ToLowerInvariant();
            Assert.Equal($"t={t},v1={expected}", signature);
        }
    }

    [Fact]
    public async Task ReasonNotInTheList_400NamingTheFieldAndTheCodes_NothingChanges_AuditedAsTheConsolesRefusal()
    {
        var (key, keyId) = await CreateKeyAsync("SOAR", ApiKeyScopes.HeightenedWrite);

        var wrong = await PutAsync(key, """{"on": true, "reason": "because"}""");
        var noOn = await PutAsync(key, """{"reason": "active_attack"}""");
        var notJson = await PutAsync(key, "on");

        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Equal("no-store", wrong.Headers.CacheControl!.ToString());
        var body = JsonNode.Parse(await wrong.Content.ReadAsStringAsync())!;
        Assert.Equal("invalid_reason", (string)body["error"]!);
        Assert.Equal("reason", (string)body["field"]!);
        Assert.Equal(HeightenedModeSettings.Reasons.Select(r => r.Code), body["allowed"]!.AsArray().Select(c => (string)c!));
        foreach (var malformed in new[] { noOn, notJson })
        {
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
            var error = JsonNode.Parse(await malformed.Content.ReadAsStringAsync())!;
            Assert.Equal("invalid_request", (string)error["error"]!);
            Assert.Equal("on", (string)error["field"]!);
        }

        Assert.False(Catalog.PolicyOf(PortalTestHost.TenantId)!.HeightenedMode.On);
        var refused = Assert.Single(await AuditAsync(), d => ((string)d["action"]!).StartsWith("admin.heightened_mode.", StringComparison.Ordinal));
        Assert.Equal(("denied", "invalid", "apikey:" + keyId), ((string)refused["outcome"]!, (string)refused["reason"]!, (string?)refused["agent"]?["subjectId"]));
    }

    /// <summary>PUT sets the state: asked for what it already is, the answer is the state, and nothing changes, is alarmed or is audited as a change.</summary>
    [Fact]
    public async Task SwitchToTheStateItIsIn_200WithTheState_NothingChanged_NoAlarm()
    {
        await fixture.WebhookAsync(_adminBrowser!);
        var alarmsBefore = fixture.Received.Count;
        var (key, _) = await CreateKeyAsync("SOAR", ApiKeyScopes.HeightenedWrite);
        var before = Catalog.PolicyOf(PortalTestHost.TenantId)!.HeightenedMode;

        var again = await PutAsync(key, """{"on": false, "reason": "threat_over"}""");

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var state = JsonNode.Parse(await again.Content.ReadAsStringAsync())!;
        Assert.False((bool)state["on"]!);
        Assert.Equal(before.Since, Catalog.PolicyOf(PortalTestHost.TenantId)!.HeightenedMode.Since);
        var audit = await AuditAsync();
        Assert.DoesNotContain(audit, d => ((string)d["action"]!).StartsWith("admin.heightened_mode.", StringComparison.Ordinal) && (string)d["outcome"]! == "succeeded");
        Assert.Contains(audit, d => (string)d["action"]! == "admin.heightened_mode.off" && (string)d["reason"]! == "heightened_mode_unchanged");
        Assert.Empty(await _mark!.SinceAsync(TenantAdministration.ChangesCollection(PortalTestHost.TenantId)));
        await Task.Delay(300);
        Assert.Equal(alarmsBefore, fixture.Received.Count);
    }

    [Fact]
    public async Task AuditReadKey_RefusedOnThePut_403InsufficientScope_Audited_ButReadsTheState()
    {
        var (key, keyId) = await CreateKeyAsync("Splunk", ApiKeyScopes.AuditRead);

        var put = await PutAsync(key, """{"on": true, "reason": "active_attack"}""");

        AssertInsufficientScope(put, await put.Content.ReadAsStringAsync(), ApiKeyScopes.HeightenedWrite);
        Assert.False(Catalog.PolicyOf(PortalTestHost.TenantId)!.HeightenedMode.On);
        var audit = await AuditAsync();
        Assert.Contains(audit, d => (string)d["action"]! == "api.access" && (string)d["outcome"]! == "denied" && (string)d["reason"]! == "api_key_scope" && (string?)d["agent"]?["subjectId"] == "apikey:" + keyId);
        Assert.DoesNotContain(audit, d => ((string)d["action"]!).StartsWith("admin.heightened_mode.", StringComparison.Ordinal));

        var get = await SendAsync(HttpMethod.Get, ModePath, key);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("no-store", get.Headers.CacheControl!.ToString());
        Assert.False((bool)JsonNode.Parse(await get.Content.ReadAsStringAsync())!["on"]!);
    }

    [Fact]
    public async Task HeightenedWriteKey_RefusedOnTheAuditPull_403InsufficientScope_Audited()
    {
        var (key, keyId) = await CreateKeyAsync("SOAR", ApiKeyScopes.HeightenedWrite);

        var pull = await SendAsync(HttpMethod.Get, AuditPath, key);

        AssertInsufficientScope(pull, await pull.Content.ReadAsStringAsync(), ApiKeyScopes.AuditRead);
        var audit = await AuditAsync();
        Assert.Contains(audit, d => (string)d["action"]! == "api.access" && (string)d["reason"]! == "api_key_scope" && (string?)d["agent"]?["subjectId"] == "apikey:" + keyId);
        Assert.DoesNotContain(audit, d => (string)d["action"]! == "audit.export.api");
    }

    /// <summary>A key stored before keys had a scope is what it was created for: it pulls the audit and switches nothing.</summary>
    [Fact]
    public async Task KeyStoredWithoutAScope_StillPullsTheAudit_AndIsRefusedOnThePut()
    {
        var creator = new AgentContext(PortalTestHost.TenantId, "s", "sub", "a***@d***.example", []);
        var (record, key) = await _host.Services.GetRequiredService<ApiKeyStore>().CreateAsync(PortalTestHost.TenantId, "old siem", creator, CancellationToken.None);
        var document = new DocumentKey(ApiKeyStore.Collection(PortalTestHost.TenantId), record.Id);
        var stored = (await _host.Store.GetAsync(document))!.Data;
        Assert.True(stored.Remove("scope"));
        await _host.Store.SetAsync(document, stored, null);

        var pull = await SendAsync(HttpMethod.Get, AuditPath + "?action=apikey.create", key);
        var put = await PutAsync(key, """{"on": true, "reason": "active_attack"}""");

        Assert.Equal(HttpStatusCode.OK, pull.StatusCode);
        Assert.Contains(await AuditAsync(), d => (string)d["action"]! == "audit.export.api" && (string?)d["agent"]?["subjectId"] == "apikey:" + record.Id);
        AssertInsufficientScope(put, await put.Content.ReadAsStringAsync(), ApiKeyScopes.HeightenedWrite);
        Assert.False(Catalog.PolicyOf(PortalTestHost.TenantId)!.HeightenedMode.On);
        Assert.Contains("audit:read", await (await _adminBrowser!.GetAsync("/admin/api-keys")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoKey_OrAnotherTenantsKey_401AsTheSchemeAnswers_NothingChanges()
    {
        var creator = new AgentContext(PortalTestHost.SecondTenantId, "s", "sub", "o***@o***.example", []);
        var (_, otherKey) = await _host.Services.GetRequiredService<ApiKeyStore>().CreateAsync(PortalTestHost.SecondTenantId, "theirs", ApiKeyScopes.HeightenedWrite, creator, CancellationToken.None);

        using var anonymous = _host.NewClient();
        using var noKey = new HttpRequestMessage(HttpMethod.Put, ModePath) { Content = JsonBody("""{"on": true, "reason": "active_attack"}""") };
        var answers = new[]
        {
            await anonymous.SendAsync(noKey),
            await PutAsync(otherKey, """{"on": true, "reason": "active_attack"}"""),
            await SendAsync(HttpMethod.Get, ModePath, otherKey),
        };

        foreach (var answer in answers)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
            Assert.Equal("Bearer realm=\"portal-audit\"", answer.Headers.WwwAuthenticate.ToString());
            Assert.Equal("no-store", answer.Headers.CacheControl!.ToString());
            Assert.Equal("invalid_api_key", (string)JsonNode.Parse(await answer.Content.ReadAsStringAsync())!["error"]!);
        }

        Assert.False(Catalog.PolicyOf(PortalTestHost.TenantId)!.HeightenedMode.On);
        Assert.False(Catalog.PolicyOf(PortalTestHost.SecondTenantId)!.HeightenedMode.On);
        Assert.Equal(3, (await AuditAsync()).Count(d => (string)d["action"]! == "api.access" && (string)d["outcome"]! == "denied"));
    }

    private static void AssertInsufficientScope(HttpResponseMessage response, string body, string needed)
    {
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal($"Bearer realm=\"portal-audit\", error=\"insufficient_scope\", scope=\"{needed}\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal("insufficient_scope", (string)JsonNode.Parse(body)!["error"]!);
    }

    private TenantCatalog Catalog => _host.Services.GetRequiredService<TenantCatalog>();

    /// <summary>Creates a key of <paramref name="scope"/> as the admin's browser does, checking the scope is audited and listed.</summary>
    private async Task<(string Key, string Id)> CreateKeyAsync(string name, string scope)
    {
        var list = await (await _adminBrowser!.GetAsync("/admin/api-keys")).Content.ReadAsStringAsync();
        var posted = await PortalTestHost.PostFormAsync(_adminBrowser, "/admin/api-keys", PortalTestHost.FormToken(list), ("name", name), ("scope", scope));
        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        var created = await (await PortalTestHost.FollowSeeOtherAsync(_adminBrowser, posted, "/admin/api-keys/created/")).Content.ReadAsStringAsync();
        var key = KeyPattern().Match(created).Groups[1].Value;
        Assert.StartsWith(ApiKeyStore.Prefix, key, StringComparison.Ordinal);
        var id = posted.Headers.Location!.OriginalString.Split('/')[^1];
        Assert.Contains(await AuditAsync(), d => (string)d["action"]! == "apikey.create" && (string)d["reason"]! == $"key:{id} scope:{scope}");
        return (key, id);
    }

    private Task<HttpResponseMessage> PutAsync(string key, string json) => SendAsync(HttpMethod.Put, ModePath, key, JsonBody(json));

    private static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string key, HttpContent? content = null)
    {
        using var api = _host.NewClient();
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return await api.SendAsync(request);
    }

    private static CollectionPath Audit(string tenantId) => CollectionPath.ForTenant(tenantId, "audit");

    private async Task<List<JsonObject>> AuditAsync() => [.. (await _mark!.SinceAsync(Audit(PortalTestHost.TenantId))).Select(d => d.Data)];

    [GeneratedRegex("data-field=\"api-key\">(portal_ak_[A-Za-z0-9_-]{43})<")]
    private static partial Regex KeyPattern();
}
