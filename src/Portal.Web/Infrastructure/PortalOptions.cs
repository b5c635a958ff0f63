using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Portal.Idp;
using Portal.Web.Authorization;

namespace Portal.Web.Infrastructure;

/// <summary>Settings of the web host itself (section <c>Portal:Web</c>).</summary>
public sealed class WebOptions
{
    public const string Section = "Portal:Web";

    /// <summary>
    /// True in every real deployment: cookies are <c>__Host-</c>, Secure, and HSTS is sent. False only for
    /// the embedded default on plain http://localhost in Development; the portal refuses it elsewhere.
    /// </summary>
    public bool RequireHttps { get; set; } = true;

    /// <summary>Reference to the secret that keys caller pseudonyms (<c>env:NAME</c> or <c>file:/path</c>).</summary>
    public string PseudonymisationKeySecret { get; set; } = "";

    /// <summary>Reference to the 32-byte key (base64) that encrypts the Data Protection key ring at rest.</summary>
    public string KeyRingEncryptionKeySecret { get; set; } = "";

    /// <summary>
    /// How many proxies in front of the portal append to <c>X-Forwarded-For</c> (docs/security-requirements.md A4): 0 = none,
    /// the socket address is the client; 1 = Cloud Run direct (the right-most entry); 2 = behind a Google
    /// load balancer (second from the right). Entries further left are the client's own claims and are ignored.
    /// </summary>
    public int TrustedProxyHops { get; set; }

    /// <summary>
    /// The portal's public origin, e.g. <c>https://portal.example.com</c> (<see cref="PublicOrigin"/>): the only
    /// origin of redirect URIs and links, and the only Host header answered. Required outside Development.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>
    /// How many sessions one agent may hold at once (review F12): a sign-in beyond it ends the agent's least
    /// recently used sessions and their verifications (docs/security-model.md, "Session cap").
    /// </summary>
    public int MaxSessionsPerAgent { get; set; } = DefaultMaxSessionsPerAgent;

    public const int DefaultMaxSessionsPerAgent = 3;

    public const int MaxSessionsPerAgentLimit = 20;
}

/// <summary>Start-up checks of <see cref="WebOptions"/> that depend on the environment; each message names its setting.</summary>
internal sealed class WebOptionsValidator(IHostEnvironment environment) : IValidateOptions<WebOptions>
{
    public ValidateOptionsResult Validate(string? name, WebOptions options)
    {
        if (options.MaxSessionsPerAgent is < 1 or > WebOptions.MaxSessionsPerAgentLimit)
        {
            return ValidateOptionsResult.Fail($"Portal:Web:MaxSessionsPerAgent must be between 1 and {WebOptions.MaxSessionsPerAgentLimit}: how many sessions one agent may hold at once.");
        }

        if (string.IsNullOrWhiteSpace(options.PublicBaseUrl))
        {
            return environment.IsDevelopment()
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail("Portal:Web:PublicBaseUrl is required outside Development: the portal's public origin, e.g. https://portal.example.com (redirect URIs and links are built from it, and other Host headers are refused).");
        }

        if (!PublicOrigin.TryParse(options.PublicBaseUrl, out var url))
        {
            return ValidateOptionsResult.Fail("Portal:Web:PublicBaseUrl must be an absolute http(s) URL with nothing after the host and port, e.g. https://portal.example.com.");
        }

        if (options.RequireHttps && url.Scheme != Uri.UriSchemeHttps)
        {
            return ValidateOptionsResult.Fail("Portal:Web:PublicBaseUrl must be https while Portal:Web:RequireHttps is true.");
        }

        return ValidateOptionsResult.Success;
    }
}

/// <summary>Settings of the embedded IdP emulator (section <c>Portal:Emulator</c>); Development only.</summary>
public sealed class EmulatorHostingOptions
{
    public const string Section = "Portal:Emulator";

    public bool Enabled { get; set; }

    public int Port { get; set; } = 5081;
}

/// <summary>One customer organisation (section <c>Portal:Tenants:N</c>).</summary>
public sealed class TenantSettings
{
    public string Id { get; set; } = "";

    public string DisplayName { get; set; } = "";

    /// <summary>Agents' e-mail domains, used by the sign-in page to find the organisation.</summary>
    public List<string> EmailDomains { get; set; } = [];

    public TenantIdpSettings Idp { get; set; } = new();

    public AgentSignInSettings AgentSignIn { get; set; } = new();

    /// <summary>The step-up sign-in callers use to prove themselves (<c>oidc.stepup</c>); not offered when unset.</summary>
    public Features.StepUp.StepUpSettings StepUp { get; set; } = new();

    /// <summary>IdP group name (or id) → tier name.</summary>
    public Dictionary<string, string> GroupTiers { get; set; } = [];

    /// <summary>The tenant's tiers; the defaults of docs/tenancy.md when empty.</summary>
    public List<TierSettings> Tiers { get; set; } = [];

    public VerificationPolicySettings Verification { get; set; } = new();

    public int AuditRetentionDays { get; set; } = 30;

    /// <summary>Customer egress networks (IPv4/IPv6 CIDR) the tenant's agents must come from; empty = any address (A4).</summary>
    public List<string> IpAllowList { get; set; } = [];

    /// <summary>Action name (e.g. <c>mfa_reset</c>) → the verification methods it accepts; an action not named keeps its default (V7).</summary>
    public Dictionary<string, List<string>> ActionMethods { get; set; } = [];

    /// <summary>IdP groups whose members are privileged targets: any action on them needs a second agent's approval (V7).</summary>
    public List<string> PrivilegedGroups { get; set; } = [];

    /// <summary>The tenant's words for a caller with no usable factor and for escalation.</summary>
    public CallScriptSettings CallScripts { get; set; } = new();

    /// <summary>Where the tenant's security alarms are sent (V6).</summary>
    public AlertWebhookSettings AlertWebhook { get; set; } = new();

    /// <summary>Reading the IdP's own log for helpdesk actions done outside the portal (off by default).</summary>
    public Features.Reconciliation.ReconciliationSettings Reconciliation { get; set; } = new();

    public IReadOnlyList<TierDefinition> EffectiveTiers() =>
        Tiers.Count == 0 ? DefaultTiers.All : [.. Tiers.Select(t => new TierDefinition(t.Name, t.Permissions))];
}

/// <summary>The tenant's alert webhook: an HTTPS URL that receives HMAC-SHA256-signed JSON alarms.</summary>
public sealed class AlertWebhookSettings
{
    /// <summary>Empty: no webhook (alarms are still audited and logged).</summary>
    public string Url { get; set; } = "";

    /// <summary>Reference to the signing key (<c>env:NAME</c> or <c>file:/path</c>), when set in configuration.</summary>
    public string SigningSecretSecret { get; set; } = "";

    /// <summary>A signing key generated in the admin console, stored encrypted with Data Protection (never in clear).</summary>
    public string SigningSecretProtected { get; set; } = "";
}

public sealed class TierSettings
{
    public string Name { get; set; } = "";

    public List<string> Permissions { get; set; } = [];
}

public sealed class TenantIdpSettings
{
    public IdpKind Kind { get; set; } = IdpKind.Okta;

    /// <summary>The Okta org URL (https://acme.okta.com/).</summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>
    /// Reference to the API credential (<c>env:NAME</c> or <c>file:/path</c>): the Okta API token, or for Entra
    /// the client secret of the app registration that calls Microsoft Graph.
    /// </summary>
    public string ApiTokenSecret { get; set; } = "";

    /// <summary>For Entra: the app registration that gets the app-only Microsoft Graph token.</summary>
    public EntraAppSettings Entra { get; set; } = new();

    /// <summary>For Okta: optional settings of the org connection.</summary>
    public OktaIdpSettings Okta { get; set; } = new();
}

public sealed class OktaIdpSettings
{
    /// <summary>The id of the org's Temporary Access Code authenticator; when set, the portal does not list authenticators (no okta.authenticators.read needed).</summary>
    public string TacAuthenticatorId { get; set; } = "";

    /// <summary>An Okta OAuth 2.0 API service app instead of an SSWS token (then <c>Idp:ApiTokenSecret</c> names its PEM private key).</summary>
    public OktaServiceAppSettings ServiceApp { get; set; } = new();

    /// <summary>
    /// The id (<c>00T…</c>) of the SSWS API token the portal uses, not the token: the System Log names it on the portal's
    /// own actions. Needed for reconciliation with an API token; not secret.
    /// </summary>
    public string ApiTokenId { get; set; } = "";
}

/// <summary>An Okta API service app: client credentials with <c>private_key_jwt</c> (docs/configuration.md).</summary>
public sealed class OktaServiceAppSettings
{
    /// <summary>The app's client id; empty: the tenant uses an SSWS API token.</summary>
    public string ClientId { get; set; } = "";

    /// <summary>The <c>kid</c> of the public key registered with the app (Okta needs it when the app has several keys).</summary>
    public string KeyId { get; set; } = "";

    /// <summary>The scopes to request; empty: <c>okta.users.read okta.users.manage</c>, plus <c>okta.authenticators.read</c> without a TAC authenticator id.</summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>The app requires DPoP-bound tokens (Okta's default for a new service app).</summary>
    public bool Dpop { get; set; } = true;
}

public sealed class EntraAppSettings
{
    /// <summary>The Entra directory (tenant) id, a GUID.</summary>
    public string DirectoryTenantId { get; set; } = "";

    public string ClientId { get; set; } = "";

    /// <summary>Only to point at an emulator; empty means login.microsoftonline.com.</summary>
    public string TokenEndpoint { get; set; } = "";

    /// <summary>Microsoft Authenticator push through the Azure MFA connector: unsupported by Microsoft, off unless turned on.</summary>
    public EntraPushConnectorSettings PushConnector { get; set; } = new();
}

/// <summary>
/// The Azure MFA connector (<c>entra.push</c>). Unsupported by Microsoft and without number matching, so it is off by
/// default and accepted only by actions whose tenant policy (<c>ActionMethods</c>) names <c>entra.push</c>.
/// </summary>
public sealed class EntraPushConnectorSettings
{
    public bool Enabled { get; set; }

    /// <summary>Reference (<c>env:NAME</c> or <c>file:/path</c>) to the client secret added to the MFA app's service principal.</summary>
    public string ClientSecretSecret { get; set; } = "";

    /// <summary>Only to point at an emulator; empty means https://login.microsoftonline.com/{directory}/oauth2/token.</summary>
    public string TokenEndpoint { get; set; } = "";

    /// <summary>Only to point at an emulator; empty means Microsoft's BeginTwoWayAuthentication address.</summary>
    public string ConnectorEndpoint { get; set; } = "";
}

public sealed class AgentSignInSettings
{
    /// <summary>The OIDC issuer agents sign in with (e.g. https://acme.okta.com/oauth2/default).</summary>
    public string Authority { get; set; } = "";

    public string ClientId { get; set; } = "";

    /// <summary>Reference to the client secret (<c>env:NAME</c> or <c>file:/path</c>); not needed with <see cref="ClientAssertionKeySecret"/>.</summary>
    public string ClientSecretSecret { get; set; } = "";

    /// <summary>
    /// Reference to a PEM RSA private key (2048 bits or more): the portal authenticates to the token endpoint with
    /// <c>private_key_jwt</c> (RFC 7523) instead of a client secret.
    /// </summary>
    public string ClientAssertionKeySecret { get; set; } = "";

    /// <summary>The <c>kid</c> the OP knows <see cref="ClientAssertionKeySecret"/>'s public key by (optional).</summary>
    public string? ClientAssertionKeyId { get; set; }

    /// <summary>
    /// The scopes to request; empty means <c>openid profile email</c>, plus <c>groups</c> where the authority's
    /// discovery document lists it in <c>scopes_supported</c>.
    /// </summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>An agent's token must carry one of these <c>amr</c> values (agent MFA, docs/security-requirements.md S1).</summary>
    public List<string> RequiredAmr { get; set; } = [];

    /// <summary>
    /// Or one of these Conditional Access authentication-context values in <c>acrs</c>: Entra's v2.0 ID
    /// tokens carry no <c>amr</c>, so an Entra tenant proves agent MFA with an authentication context
    /// whose Conditional Access policy requires it.
    /// </summary>
    public List<string> RequiredAcrs { get; set; } = [];

    /// <summary>
    /// The <c>amr</c> values accepted: ["mfa"] unless configured. (A list property with a default would have
    /// configured values appended to the default rather than replace it.)
    /// </summary>
    public IReadOnlyList<string> EffectiveRequiredAmr => RequiredAmr.Count == 0 && RequiredAcrs.Count == 0 ? ["mfa"] : RequiredAmr;
}

/// <summary>
/// The tenant's own words for the hardest moments of a call (docs/tenancy.md "Call scripts"): what the agent does when
/// the caller has no factor the portal can challenge (a lost phone), and whom they hand a call to that they must not
/// resolve. Shown on the console and the push page; each at most <see cref="MaxLength"/> characters.
/// </summary>
public sealed class CallScriptSettings
{
    public const int MaxLength = 1000;

    public const string DefaultNoFactor = "Do not act on the account. Follow your organisation's in-person or manager-approval procedure for a caller who cannot use a second factor.";

    public const string DefaultEscalation = "If the caller insists, is upset or you are unsure, hand the call to your team lead. Never make an exception on the phone.";

    public string NoFactor { get; set; } = DefaultNoFactor;

    public string Escalation { get; set; } = DefaultEscalation;

    /// <summary>Why the two texts are refused, in words naming the field; null when both are fine.</summary>
    public static string? Problem(string noFactor, string escalation) =>
        ProblemOf("What to do when the caller has no usable factor", noFactor) ?? ProblemOf("Escalation", escalation);

    /// <summary>Why one text is refused ("{label} must not be empty."); null when it is fine.</summary>
    public static string? ProblemOf(string label, string? text) =>
        string.IsNullOrWhiteSpace(text) ? $"{label} must not be empty."
        : text.Length > MaxLength ? $"{label} must be at most {MaxLength} characters."
        : text.Any(c => char.IsControl(c) && c is not '\n' and not '\r') ? $"{label} must be plain text." : null;
}

public sealed class VerificationPolicySettings
{
    /// <summary>How long a verification lasts (2–30 minutes; default 10).</summary>
    public int SessionMinutes { get; set; } = 10;

    /// <summary>Failed attempts in a row before a cool-down (≤ 10, docs/security-requirements.md V4).</summary>
    public int MaxFailuresBeforeCooldown { get; set; } = 5;

    public int CooldownMinutes { get; set; } = 15;

    /// <summary>Pushes per caller within <see cref="PushWindowMinutes"/> (push-bombing limit).</summary>
    public int MaxPushesPerWindow { get; set; } = 3;

    public int PushWindowMinutes { get; set; } = 10;

    /// <summary>After a rejected push or a "not me", sensitive actions on that caller are blocked this long (V6).</summary>
    public int AlarmCooldownMinutes { get; set; } = 60;
}

/// <summary>The tenants, from configuration, validated at start-up with messages that name the setting.</summary>
public sealed class TenantCatalogOptions
{
    public List<TenantSettings> Tenants { get; set; } = [];
}

internal sealed partial class TenantCatalogOptionsValidator(IHostEnvironment environment, ISecretResolver secrets) : IValidateOptions<TenantCatalogOptions>
{
    public ValidateOptionsResult Validate(string? name, TenantCatalogOptions options)
    {
        var failures = new List<string>();
        if (options.Tenants.Count == 0)
        {
            failures.Add("Portal:Tenants must list at least one tenant.");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Tenants.Count; i++)
        {
            var t = options.Tenants[i];
            var at = $"Portal:Tenants:{i}";
            if (!TenantIdPattern().IsMatch(t.Id))
            {
                failures.Add($"{at}:Id must be 2-40 characters of a-z, 0-9 and '-'.");
            }
            else if (!ids.Add(t.Id))
            {
                failures.Add($"{at}:Id '{t.Id}' is used twice.");
            }

            if (string.IsNullOrWhiteSpace(t.DisplayName))
            {
                failures.Add($"{at}:DisplayName must be set.");
            }

            CheckUrl(failures, $"{at}:Idp:BaseUrl", t.Idp.BaseUrl);
            if (t.Idp.Kind == IdpKind.Entra)
            {
                if (!Guid.TryParse(t.Idp.Entra.DirectoryTenantId, out _))
                {
                    failures.Add($"{at}:Idp:Entra:DirectoryTenantId must be the Entra directory id (a GUID).");
                }

                if (!Guid.TryParse(t.Idp.Entra.ClientId, out _))
                {
                    failures.Add($"{at}:Idp:Entra:ClientId must be the application (client) id, a GUID, of the app registration that calls Microsoft Graph.");
                }

                if (!string.IsNullOrEmpty(t.Idp.Entra.TokenEndpoint))
                {
                    CheckUrl(failures, $"{at}:Idp:Entra:TokenEndpoint", t.Idp.Entra.TokenEndpoint);
                }

                var push = t.Idp.Entra.PushConnector;
                if (push.Enabled)
                {
                    CheckSecret(failures, $"{at}:Idp:Entra:PushConnector:ClientSecretSecret", push.ClientSecretSecret);
                    foreach (var (endpoint, value) in new[] { ("TokenEndpoint", push.TokenEndpoint), ("ConnectorEndpoint", push.ConnectorEndpoint) })
                    {
                        if (!string.IsNullOrEmpty(value))
                        {
                            CheckUrl(failures, $"{at}:Idp:Entra:PushConnector:{endpoint}", value);
                        }
                    }
                }
            }

            CheckSecret(failures, $"{at}:Idp:ApiTokenSecret", t.Idp.ApiTokenSecret);
            var serviceApp = t.Idp.Okta.ServiceApp;
            if (t.Idp.Kind == IdpKind.Okta && !string.IsNullOrWhiteSpace(serviceApp.ClientId))
            {
                if (serviceApp.Scopes.Any(s => string.IsNullOrWhiteSpace(s) || !s.StartsWith("okta.", StringComparison.Ordinal) || s.Any(c => c is ' ' or '"' || char.IsControl(c))))
                {
                    failures.Add($"{at}:Idp:Okta:ServiceApp:Scopes must hold Okta API scopes, one per entry (okta.users.read, okta.users.manage, okta.authenticators.read).");
                }

                if (SecretResolver.IsWellFormed(t.Idp.ApiTokenSecret))
                {
                    try
                    {
                        using var key = System.Security.Cryptography.RSA.Create();
                        key.ImportFromPem(secrets.Resolve(t.Idp.ApiTokenSecret, $"{at}:Idp:ApiTokenSecret"));
                        if (key.KeySize < 2048)
                        {
                            failures.Add($"{at}:Idp:ApiTokenSecret must name the service app's RSA private key of at least 2048 bits (Idp:Okta:ServiceApp is set).");
                        }
                    }
                    catch (ArgumentException)
                    {
                        failures.Add($"{at}:Idp:ApiTokenSecret must name the service app's PEM RSA private key (Idp:Okta:ServiceApp is set).");
                    }
                    catch (InvalidOperationException)
                    {
                        // The missing secret is already reported by CheckSecret.
                    }
                }
            }

            CheckUrl(failures, $"{at}:AgentSignIn:Authority", t.AgentSignIn.Authority);
            if (string.IsNullOrWhiteSpace(t.AgentSignIn.ClientId))
            {
                failures.Add($"{at}:AgentSignIn:ClientId must be set.");
            }

            if (string.IsNullOrWhiteSpace(t.AgentSignIn.ClientAssertionKeySecret))
            {
                CheckSecret(failures, $"{at}:AgentSignIn:ClientSecretSecret", t.AgentSignIn.ClientSecretSecret);
            }
            else
            {
                CheckSecret(failures, $"{at}:AgentSignIn:ClientAssertionKeySecret", t.AgentSignIn.ClientAssertionKeySecret);
            }

            if (t.AgentSignIn.Scopes.Count > 0 && (!t.AgentSignIn.Scopes.Contains("openid", StringComparer.Ordinal) || t.AgentSignIn.Scopes.Any(s => string.IsNullOrWhiteSpace(s) || s.Any(c => c is ' ' or '"' or '\\' || char.IsControl(c)))))
            {
                failures.Add($"{at}:AgentSignIn:Scopes must include openid and hold single scope tokens.");
            }
            if (t.AgentSignIn.RequiredAmr.Concat(t.AgentSignIn.RequiredAcrs).Any(string.IsNullOrWhiteSpace))
            {
                failures.Add($"{at}:AgentSignIn:RequiredAmr and RequiredAcrs must not hold empty values (agent MFA is required).");
            }

            Features.StepUp.StepUpSettings.Validate(t, at, failures, CheckUrl, CheckSecret);
            Features.Reconciliation.ReconciliationSettings.Validate(t, at, failures);

            TenantPolicyRules.Check(t, at, failures, environment.IsDevelopment());
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void CheckUrl(List<string> list, string setting, string value)
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            {
                list.Add($"{setting} must be an absolute https URL.");
            }
            else if (uri.Scheme == Uri.UriSchemeHttp && !(uri.IsLoopback && environment.IsDevelopment()))
            {
                // Plain http would put API tokens and ID tokens on the wire: only the local emulator may use it.
                list.Add($"{setting} must use https (http is accepted only for a loopback emulator in Development).");
            }
        }

        void CheckSecret(List<string> list, string setting, string value)
        {
            if (!SecretResolver.IsWellFormed(value))
            {
                list.Add($"{setting} must be a secret reference 'env:NAME' or 'file:/path' (secrets are never written in settings).");
                return;
            }

            try
            {
                // Resolved once at start-up so that a missing secret stops the portal here, naming its setting.
                _ = secrets.Resolve(value, setting);
            }
            catch (InvalidOperationException ex)
            {
                list.Add(ex.Message);
            }
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,39}$")]
    private static partial Regex TenantIdPattern();
}

/// <summary>Finds a tenant's settings. Callers pass the tenant id of the agent's authenticated session only.</summary>
public interface ITenantCatalog
{
    IReadOnlyList<TenantSettings> All { get; }

    TenantSettings? Find(string tenantId);

    /// <summary>The tenant whose agents use this e-mail domain, for the sign-in page.</summary>
    TenantSettings? FindByEmailDomain(string domain);
}
