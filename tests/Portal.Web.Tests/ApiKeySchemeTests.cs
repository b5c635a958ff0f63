using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Portal.Audit;
using Portal.Storage;
using Portal.Web.Agents;

namespace Portal.Web.Tests;

/// <summary>
/// The SIEM API's own credential (docs/audit.md, "SIEM export API"): exactly what a refused pull receives, and that the
/// API key and the agent's cookie each open only their own routes. A host per test: one test counts the API's pulls
/// against the client address's rate limit.
/// </summary>
public sealed class ApiKeySchemeTests : IAsyncLifetime
{
    private const string Admin = "admin@demo.example";
    private const string Auditor = "auditor@demo.example";
    private const string ApiPath = "/api/v1/tenants/" + PortalTestHost.TenantId + "/audit";
    private const string Challenge = "Bearer realm=\"portal-audit\"";
    private const string InvalidKeyBody = "{\"error\":\"invalid_api_key\",\"message\":\"A valid API key of this tenant is required.\"}";
    private const string KeyInUrlBody = "{\"error\":\"key_in_url\",\"message\":\"API keys are accepted in the Authorization or X-Api-Key header only. A key sent in a URL should be revoked.\"}";

    private readonly PortalTestHost _host = new();

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task KeyInTheUrl_400WithItsBody_NotKept_NoChallenge_NothingAudited()
    {
        var key = await CreateKeyAsync();
        using var api = _host.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, ApiPath + "?token=" + Uri.EscapeDataString(key));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);

        var response = await api.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(KeyInUrlBody, await response.Content.ReadAsStringAsync());
        Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
        Assert.Empty(response.Headers.WwwAuthenticate);
        Assert.DoesNotContain(await AuditAsync(), r => r.Action is "api.access" or "audit.export.api");
        Assert.Null((await KeyRecordAsync()).LastUsedAt);
    }

    [Fact]
    public async Task NoKey_401WithTheBearerChallengeAndItsBody_NotKept_AuditedAsMissing()
    {
        using var api = _host.NewClient();

        var response = await api.GetAsync(ApiPath);

        AssertInvalidKeyAnswer(response, await response.Content.ReadAsStringAsync());
        var refusal = Assert.Single(await AuditAsync(), r => r.Action == "api.access");
        Assert.Equal(AuditOutcome.Denied, refusal.Outcome);
        Assert.Equal("api_key_missing", refusal.Reason);
        Assert.Equal("apikey:unknown", refusal.Agent.SubjectId);

        // The refusal is the audit's to record: the scheme adds no log line of its own per refused pull, as the agent's schemes add none per request.
        Assert.DoesNotContain(_host.LogLines, l => l.Contains("AuthenticationScheme: " + ApiKeyAuthentication.Scheme + " ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MalformedKeyInTheApiKeyHeader_401_AuditedAsMalformed()
    {
        using var api = _host.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, ApiPath);
        request.Headers.Add("X-Api-Key", "portal_ak_short");

        var response = await api.SendAsync(request);

        AssertInvalidKeyAnswer(response, await response.Content.ReadAsStringAsync());
        Assert.Contains(await AuditAsync(), r => r.Action == "api.access" && r.Outcome == AuditOutcome.Denied && r.Reason == "api_key_malformed");
    }

    [Fact]
    public async Task UnknownTenant_401WithTheSameAnswer_NothingAudited()
    {
        var key = await CreateKeyAsync();

        var response = await GetWithKeyAsync("/api/v1/tenants/no-such-tenant/audit", key);

        AssertInvalidKeyAnswer(response, await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain(await AuditAsync(), r => r.Action is "api.access" or "audit.export.api");
        Assert.Null((await KeyRecordAsync()).LastUsedAt);
    }

    /// <summary>An auditor may read the audit on its page, but their cookie is no credential for the API: a 401 to the SIEM, never the agent sign-in.</summary>
    [Fact]
    public async Task AgentCookieAlone_OnTheApi_401NotARedirect_AuditedAsAMissingKey()
    {
        var auditor = await _host.SignInAsync(Auditor);
        Assert.Equal(HttpStatusCode.OK, (await auditor.GetAsync("/audit")).StatusCode);

        var response = await auditor.GetAsync(ApiPath);

        AssertInvalidKeyAnswer(response, await response.Content.ReadAsStringAsync());
        Assert.Null(response.Headers.Location);
        Assert.Contains(await AuditAsync(), r => r.Action == "api.access" && r.Reason == "api_key_missing" && r.Agent.SubjectId == "apikey:unknown");
        Assert.DoesNotContain(await AuditAsync(), r => r.Action == "audit.export.api");
    }

    /// <summary>
    /// With an agent's cookie and a key both sent, the pull is the key's: the agent is not who the audit names. A served
    /// pull names the Bearer challenge too, as every answer of the API past the key-in-URL check does.
    /// </summary>
    [Fact]
    public async Task AgentCookieAndAKey_OnTheApi_ThePullIsTheKeys()
    {
        var (admin, key) = await CreateKeyWithAdminAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, ApiPath);
        request.Headers.Add("X-Api-Key", key);

        var response = await admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
        Assert.Equal(Challenge, response.Headers.WwwAuthenticate.ToString());
        var pull = Assert.Single(await AuditAsync(), r => r.Action == "audit.export.api");
        Assert.Equal("apikey:" + (await KeyRecordAsync()).Id, pull.Agent.SubjectId);
    }

    /// <summary>A key signs nobody in to the console: an agent page asked with one alone is sent to the agent sign-in, and the key is not even read.</summary>
    [Theory]
    [InlineData("/console", "Authorization")]
    [InlineData("/audit", "Authorization")]
    [InlineData("/admin/api-keys", "X-Api-Key")]
    public async Task ApiKeyAlone_OnAnAgentPage_SentToTheAgentSignIn_KeyNotUsed(string path, string header)
    {
        var key = await CreateKeyAsync();
        using var browser = _host.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (header == "Authorization")
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        else
        {
            request.Headers.Add(header, key);
        }

        var response = await browser.SendAsync(request);

        Assert.True(Security.SecurityTestKit.IsSignInChallenge(response), $"{path}: expected the agent sign-in, got {(int)response.StatusCode}");
        Assert.Null((await KeyRecordAsync()).LastUsedAt);
        Assert.DoesNotContain(await AuditAsync(), r => r.Action == "api.access");
    }

    /// <summary>A SIEM's pulls count against its client address like any request without an agent (docs/security-requirements.md A5).</summary>
    [Fact]
    public async Task KeyPulls_CountAgainstTheClientAddress_429WithRetryAfterPastTheLimit()
    {
        var host = new PortalTestHost();
        host.Settings["Portal:Web:RateLimits:AddressPermitLimit"] = "3";
        host.Settings["Portal:Web:RateLimits:WindowSeconds"] = "3600";
        await host.InitializeAsync();
        try
        {
            await PullFourTimesAsync(host);
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    private static async Task PullFourTimesAsync(PortalTestHost host)
    {
        var creator = new AgentContext(PortalTestHost.TenantId, "s", "sub", "a***@d***.example", []);
        var (_, key) = await host.Services.GetRequiredService<ApiKeyStore>().CreateAsync(PortalTestHost.TenantId, "siem", creator, CancellationToken.None);
        using var api = host.NewClient();

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, ApiPath);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            var response = await api.SendAsync(request);
            answers.Add(response.StatusCode);
            if (i == 3)
            {
                Assert.NotNull(response.Headers.RetryAfter?.Delta);
            }
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], answers);
    }

    /// <summary>However the scheme is challenged or forbidden, even from an agent page, it answers as the API does: never a redirect.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheApiScheme_ChallengedOrForbidden_AnswersAsTheApi_NeverTheAgentSignIn(bool forbid)
    {
        using var scope = _host.Services.CreateScope();
        var http = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        http.Request.Path = "/audit";
        http.Response.Body = new MemoryStream();

        await (forbid ? http.ForbidAsync(ApiKeyAuthentication.Scheme) : http.ChallengeAsync(ApiKeyAuthentication.Scheme));

        Assert.Equal(StatusCodes.Status401Unauthorized, http.Response.StatusCode);
        Assert.False(http.Response.Headers.ContainsKey("Location"));
        Assert.Equal(Challenge, http.Response.Headers.WWWAuthenticate.ToString());
        Assert.Equal("no-store", http.Response.Headers.CacheControl.ToString());
        http.Response.Body.Position = 0;
        Assert.Equal(InvalidKeyBody, await new StreamReader(http.Response.Body).ReadToEndAsync());
    }

    /// <summary>The key's principal names its tenant and key and is no agent; an agent's is no key.</summary>
    [Fact]
    public async Task TheKeysPrincipal_NamesTheTenantAndTheKey_AndIsNoAgent()
    {
        var key = await CreateKeyAsync();
        using var scope = _host.Services.CreateScope();
        var http = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        http.Request.RouteValues[ApiKeyAuthentication.TenantRouteValue] = PortalTestHost.TenantId;
        http.Request.Headers.Authorization = "Bearer " + key;

        var result = await http.AuthenticateAsync(ApiKeyAuthentication.Scheme);

        Assert.True(result.Succeeded);
        Assert.Equal(new ApiKeyContext(PortalTestHost.TenantId, (await KeyRecordAsync()).Id, ApiKeyScopes.AuditRead), ApiKeyContext.From(result.Principal!));
        Assert.Null(AgentContext.From(result.Principal!));
        var agent = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(AgentClaims.TenantId, PortalTestHost.TenantId), new Claim(AgentClaims.SessionId, "s"), new Claim(AgentClaims.Subject, "sub")], "portal"));
        Assert.Null(ApiKeyContext.From(agent));
    }

    private static void AssertInvalidKeyAnswer(HttpResponseMessage response, string body)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(Challenge, response.Headers.WwwAuthenticate.ToString());
        Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(InvalidKeyBody, body);
    }

    private async Task<string> CreateKeyAsync()
    {
        var creator = new AgentContext(PortalTestHost.TenantId, "s", "sub", "a***@d***.example", []);
        var (_, key) = await _host.Services.GetRequiredService<ApiKeyStore>().CreateAsync(PortalTestHost.TenantId, "siem", creator, CancellationToken.None);
        return key;
    }

    private async Task<(HttpClient Admin, string Key)> CreateKeyWithAdminAsync()
    {
        var admin = await _host.SignInAsync(Admin);
        return (admin, await CreateKeyAsync());
    }

    private async Task<HttpResponseMessage> GetWithKeyAsync(string path, string key)
    {
        using var api = _host.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return await api.SendAsync(request);
    }

    private async Task<ApiKeyRecord> KeyRecordAsync()
    {
        var keys = new List<ApiKeyRecord>();
        await foreach (var d in _host.Store.QueryAsync(new DocumentQuery(ApiKeyStore.Collection(PortalTestHost.TenantId))))
        {
            keys.Add(DocumentJson.FromDocument<ApiKeyRecord>(d.Data));
        }

        return Assert.Single(keys);
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
}
