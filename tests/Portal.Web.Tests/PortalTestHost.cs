using System.Net;
using Microsoft.Extensions.Time.Testing;

namespace Portal.Web.Tests;

/// <summary>
/// The portal on one Okta organisation (a second one with <see cref="WithSecondTenant"/>), in memory, on a fake clock
/// shared with its emulator: a <see cref="PortalHost"/> with the sign-in and form helpers the web tests use.
/// </summary>
public sealed class PortalTestHost : PortalHost
{
    public const string TenantId = "demo-okta";

    /// <summary>A second organisation on the same emulator (another client id), present when <see cref="WithSecondTenant"/> is set.</summary>
    public const string SecondTenantId = "other-okta";
    private const string ClientId = "portal-test";
    private const string SecondClientId = "portal-test-other";

    /// <summary>A portal with its own emulator, keys and store.</summary>
    public PortalTestHost()
        : base(new FakeTimeProvider(DateTimeOffset.UtcNow), "portal-web-tests-")
    {
    }

    /// <summary>
    /// A second instance of the same deployment as <paramref name="twin"/>: the same IdP emulator, secrets,
    /// keys and clock (start it after the twin). Give both the same shared store through <see cref="PortalHost.Settings"/>.
    /// </summary>
    public PortalTestHost(PortalTestHost twin)
        : base(twin)
    {
    }

    public FakeTimeProvider Clock => (FakeTimeProvider)Time;

    /// <summary>The public key the emulator accepts client assertions of <see cref="TenantId"/>'s client with (private_key_jwt).</summary>
    public Microsoft.IdentityModel.Tokens.SecurityKey? ClientAssertionKey { get; init; }

    /// <summary>Configures <see cref="SecondTenantId"/> as well (set before <see cref="PortalHost.InitializeAsync"/>).</summary>
    public bool WithSecondTenant { get; set; }

    /// <inheritdoc cref="PortalHost.UseFirestore"/>
    public new PortalTestHost UseFirestore(string emulatorHost, string projectId)
    {
        base.UseFirestore(emulatorHost, projectId);
        return this;
    }

    /// <summary>Signs an emulator demo agent in through the real OIDC code flow (with PKCE) and returns their browser.</summary>
    public Task<HttpClient> SignInAsync(string agentEmail, HttpClient? browser = null) => SignInToAsync(TenantId, agentEmail, browser);

    /// <summary>Signs an emulator demo agent in to <paramref name="tenantId"/> and returns their browser.</summary>
    public async Task<HttpClient> SignInToAsync(string tenantId, string agentEmail, HttpClient? browser = null)
    {
        var client = browser ?? NewClient();
        var signedIn = await SignInCallbackAsync(tenantId, agentEmail, client);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        return client;
    }

    /// <summary>Runs the OIDC code flow up to the portal's sign-in callback and returns the portal's answer to it.</summary>
    public Task<HttpResponseMessage> SignInCallbackAsync(string tenantId, string agentEmail, HttpClient client, Func<string, string>? rewriteCallbackPath = null) =>
        SignInCallbackAsync(tenantId, Emulator.OktaIssuer.ToString(), Emulator.State.Agents.Single(a => a.Email == agentEmail).Subject, client, rewriteCallbackPath);

    /// <summary>The antiforgery token of the first form on a page.</summary>
    public static string FormToken(string html) => PortalForms.FormToken(html);

    public static string HiddenValue(string html, string name) => PortalForms.HiddenValue(html, name);

    public static Task<HttpResponseMessage> PostFormAsync(HttpClient client, string path, string token, params (string Name, string Value)[] fields) =>
        PortalForms.PostFormAsync(client, path, token, fields);

    /// <inheritdoc cref="PortalForms.FollowSeeOtherAsync"/>
    public static Task<HttpResponseMessage> FollowSeeOtherAsync(HttpClient client, HttpResponseMessage posted, string expectedPrefix) =>
        PortalForms.FollowSeeOtherAsync(client, posted, expectedPrefix);

    /// <summary>The one-time secret a result page shows (its blocks of four joined), or "" when it shows none.</summary>
    public static string SecretOn(string html) => PortalForms.SecretOn(html);

    protected override IEnumerable<TestTenant> DefaultTenants()
    {
        yield return new TestTenant(TenantId, TestIdp.Okta, ClientId) { ClientAssertionKey = ClientAssertionKey };
        if (WithSecondTenant)
        {
            yield return new TestTenant(SecondTenantId, TestIdp.Okta, SecondClientId)
            {
                DisplayName = "Other Org",
                EmailDomains = ["other.example"],
                GroupTiers = new Dictionary<string, string>
                {
                    ["Helpdesk Tier 3"] = "Tier 3",
                    ["Helpdesk Auditors"] = "Auditor",
                    ["Helpdesk Admins"] = "Tenant admin",
                },
            };
        }
    }
}
