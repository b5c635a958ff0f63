using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Portal.Audit;
using Portal.Storage;
using Portal.Web.Agents;

namespace Portal.Web.Tests;

/// <summary>SIEM API keys over real HTTP: created by a tenant admin and shown once, stored as a hash, refused when wrong, revoked or another tenant's.</summary>
public sealed partial class ApiKeyTests : IAsyncLifetime
{
    private const string Admin = "admin@demo.example";
    private const string Auditor = "auditor@demo.example";
    private const string ApiPath = "/api/v1/tenants/" + PortalTestHost.TenantId + "/audit";

    private readonly PortalTestHost _host = new();

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task Create_ByTenantAdmin_ShownOnceAndStoredOnlyAsSha256()
    {
        var (admin, key) = await CreateKeyAsync("Splunk prod");

        Assert.Matches("^portal_ak_[A-Za-z0-9_-]{43}$", key);
        var stored = Assert.Single(await KeysAsync());
        // docs/audit.md: the SHA-256 of the key (lowercase hex), recomputed here rather than by the store's own function.
        Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key))).ToLowerInvariant(), stored.Hash);
        Assert.Equal("Splunk prod", stored.Name);
        Assert.Equal(_host.Clock.GetUtcNow(), stored.CreatedAt);
        Assert.Equal("a***@d***.example", stored.CreatedByMaskedLogin);
        Assert.Null(stored.LastUsedAt);
        var list = await new ConsoleDriver(_host, admin).GetPageAsync("/admin/api-keys");
        Assert.DoesNotContain(key, list, StringComparison.Ordinal);
        Assert.Contains("…" + key[^4..], list, StringComparison.Ordinal);

        // A form without a scope creates what every key was before scopes: audit read, the page's default, listed and audited.
        Assert.Equal(ApiKeyScopes.AuditRead, stored.Scope);
        Assert.Contains("data-field=\"key-scope\">audit:read<", list, StringComparison.Ordinal);
        Assert.Matches("<input id=\"key-scope-audit-read\" type=\"radio\" name=\"scope\" value=\"audit:read\" checked=\"checked\"", list);
        Assert.DoesNotMatch("value=\"heightened:write\" checked", list);
        Assert.Contains(await AuditAsync(), r => r.Action == "apikey.create" && r.Reason == $"key:{stored.Id} scope:audit:read");
        await foreach (var d in _host.Store.QueryAsync(new DocumentQuery(ApiKeyStore.Collection(PortalTestHost.TenantId))))
        {
            Assert.DoesNotContain(key[ApiKeyStore.Prefix.Length..], d.Data.ToJsonString(), StringComparison.Ordinal);
        }

        Assert.Contains(await AuditActionsAsync(), a => a == "apikey.create");
    }

    [Fact]
    public async Task Api_ValidKeyInEitherHeader_StreamsNdjsonAuditsThePullAndUpdatesLastUsed()
    {
        var (_, key) = await CreateKeyAsync("siem");
        _host.Clock.Advance(TimeSpan.FromMinutes(5));
        using var api = _host.NewClient();

        using var bearer = new HttpRequestMessage(HttpMethod.Get, ApiPath + "?action=apikey.create");
        bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var response = await api.SendAsync(bearer);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType!.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var record = JsonSerializer.Deserialize<AuditRecord>(Assert.Single(lines), DocumentJson.Options)!;
        Assert.Equal("apikey.create", record.Action);
        Assert.Equal(_host.Clock.GetUtcNow(), Assert.Single(await KeysAsync()).LastUsedAt);

        _host.Clock.Advance(TimeSpan.FromMinutes(5));
        using var header = new HttpRequestMessage(HttpMethod.Get, ApiPath + "?format=csv");
        header.Headers.Add("X-Api-Key", key);
        var csv = await api.SendAsync(header);
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
        Assert.Equal(_host.Clock.GetUtcNow(), Assert.Single(await KeysAsync()).LastUsedAt);

        var pulls = (await AuditAsync()).Where(r => r.Action == "audit.export.api").ToList();
        Assert.Equal(2, pulls.Count);
        var keyId = Assert.Single(await KeysAsync()).Id;
        Assert.All(pulls, p => Assert.Equal("apikey:" + keyId, p.Agent.SubjectId));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("portal_ak_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("not-a-key")]
    public async Task Api_MissingOrWrongKey_Unauthorized(string? presented)
    {
        await CreateKeyAsync("siem");
        using var api = _host.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, ApiPath);
        if (presented is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", presented);
        }

        var response = await api.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("\"tenantId\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains(await AuditAsync(), r => r.Action == "api.access" && r.Outcome == AuditOutcome.Denied);
        Assert.Null(Assert.Single(await KeysAsync()).LastUsedAt);
    }

    [Fact]
    public async Task Api_KeyInQueryString_RefusedEvenWhenValid()
    {
        var (_, key) = await CreateKeyAsync("siem");
        using var api = _host.NewClient();

        var response = await api.GetAsync(ApiPath + "?api_key=" + Uri.EscapeDataString(key));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(Assert.Single(await KeysAsync()).LastUsedAt);
        Assert.DoesNotContain(await AuditAsync(), r => r.Action == "audit.export.api");
    }

    [Fact]
    public async Task Api_RevokedKey_Unauthorized()
    {
        var (admin, key) = await CreateKeyAsync("siem");
        var id = Assert.Single(await KeysAsync()).Id;
        var token = PortalTestHost.FormToken(await new ConsoleDriver(_host, admin).GetPageAsync("/admin/api-keys"));

        var revoke = await PortalTestHost.PostFormAsync(admin, $"/admin/api-keys/{id}/revoke", token);

        Assert.Equal(HttpStatusCode.Redirect, revoke.StatusCode);
        Assert.NotNull(Assert.Single(await KeysAsync()).RevokedAt);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetWithKeyAsync(ApiPath, key)).StatusCode);
        Assert.Contains(await AuditAsync(), r => r.Action == "api.access" && r.Reason == "api_key_revoked" && r.Agent.SubjectId == "apikey:" + id);
        Assert.Contains(await AuditActionsAsync(), a => a == "apikey.revoke");
    }

    [Fact]
    public async Task Api_KeyOfAnotherTenant_Unauthorized()
    {
        var keys = _host.Factory.Services.GetRequiredService<ApiKeyStore>();
        var creator = new AgentContext("other-tenant", "s", "sub", "o***@o***.example", []);
        var (_, otherKey) = await keys.CreateAsync("other-tenant", "theirs", creator, CancellationToken.None);
        var (_, ownKey) = await CreateKeyAsync("ours");

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetWithKeyAsync(ApiPath, otherKey)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetWithKeyAsync("/api/v1/tenants/other-tenant/audit", ownKey)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetWithKeyAsync(ApiPath, ownKey)).StatusCode);
    }

    [Fact]
    public async Task AdminPage_AgentWithoutAdminSettings_Forbidden()
    {
        var auditor = await _host.SignInAsync(Auditor);

        var response = await auditor.GetAsync("/admin/api-keys");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Api_PostWithValidKey_NotServed()
    {
        var (_, key) = await CreateKeyAsync("siem");
        using var api = _host.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, ApiPath) { Content = new StringContent("") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);

        var response = await api.SendAsync(request);

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(await AuditAsync(), r => r.Action == "audit.export.api");
        Assert.Null(Assert.Single(await KeysAsync()).LastUsedAt);
    }

    private async Task<(HttpClient Admin, string Key)> CreateKeyAsync(string name)
    {
        var admin = await _host.SignInAsync(Admin);
        var token = PortalTestHost.FormToken(await new ConsoleDriver(_host, admin).GetPageAsync("/admin/api-keys"));
        var posted = await PortalTestHost.PostFormAsync(admin, "/admin/api-keys", token, ("name", name));
        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        var created = await PortalTestHost.FollowSeeOtherAsync(admin, posted, "/admin/api-keys/created/");
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.True(created.Headers.CacheControl?.NoStore, "The page with the key must not be stored.");
        var match = KeyPattern().Match(await created.Content.ReadAsStringAsync());
        Assert.True(match.Success, "The key is shown once on creation.");

        // F5 on that page: no second key, and this one is not shown again.
        var keysBefore = (await KeysAsync()).Count;
        var again = await (await admin.GetAsync(posted.Headers.Location!.OriginalString)).Content.ReadAsStringAsync();
        Assert.DoesNotContain(match.Groups[1].Value, again, StringComparison.Ordinal);
        Assert.Contains("data-field=\"api-key-gone\"", again, StringComparison.Ordinal);
        Assert.Equal(keysBefore, (await KeysAsync()).Count);
        return (admin, match.Groups[1].Value);
    }

    private async Task<HttpResponseMessage> GetWithKeyAsync(string path, string key)
    {
        using var api = _host.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return await api.SendAsync(request);
    }

    private async Task<List<ApiKeyRecord>> KeysAsync()
    {
        var keys = new List<ApiKeyRecord>();
        await foreach (var d in _host.Store.QueryAsync(new DocumentQuery(ApiKeyStore.Collection(PortalTestHost.TenantId))))
        {
            keys.Add(DocumentJson.FromDocument<ApiKeyRecord>(d.Data));
        }

        return keys;
    }

    private async Task<List<AuditRecord>> AuditAsync()
    {
        var records = new List<AuditRecord>();
        await foreach (var d in _host.Store.QueryAsync(new DocumentQuery(CollectionPath.ForTenant(PortalTestHost.TenantId, "audit"))))
        {
            records.Add(DocumentJson.FromDocument<AuditRecord>(d.Data));
        }

        return records;
    }

    private async Task<List<string>> AuditActionsAsync() => [.. (await AuditAsync()).Select(r => r.Action)];

    [GeneratedRegex("data-field=\"api-key\">(portal_ak_[A-Za-z0-9_-]{43})<")]
    private static partial Regex KeyPattern();
}
