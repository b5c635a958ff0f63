using System.Text.Json.Nodes;

namespace Portal.IdpEmulator;

/// <summary>
/// The demo organisations this emulator serves, described once: the portal's settings of each (one
/// <c>Portal:Tenants:N</c> entry, docs/tenancy.md and docs/entra.md) and the clients they use at the emulator.
/// The embedded demo (<see cref="EmbeddedDemo"/>), the standalone emulator's tenants file and the test hosts all take
/// them from here.
/// </summary>
public static class DemoTenants
{
    public const string OktaTenantId = "demo-okta";

    public const string EntraTenantId = "demo-entra";

    /// <summary>The demo Okta org's group of executive targets (<c>ExecutiveTargets:Groups</c>, docs/tenancy.md); vera.exec@demo.example is in it.</summary>
    public const string ExecutivesGroup = "Executives";

    /// <summary>The demo Okta org's agent sign-in client (<c>/oauth2/default</c>).</summary>
    public const string OktaAgentClientId = "portal-demo";

    /// <summary>The demo Entra directory's agent sign-in app registration.</summary>
    public const string EntraAgentClientId = "7d0c2b8a-41e6-4f0b-9d3c-5a6e8f1b2c01";

    /// <summary>The demo Entra directory's Graph app registration (client credentials).</summary>
    public const string GraphClientId = "7d0c2b8a-41e6-4f0b-9d3c-5a6e8f1b2c02";

    /// <summary>The step-up client both demo organisations use for callers' sign-in.</summary>
    public const string StepUpClientId = "7d0c2b8a-41e6-4f0b-9d3c-5a6e8f1b2c03";

    /// <summary>
    /// The demo Okta org at the emulator's <paramref name="root"/>, as the settings of one tenant (keys relative to
    /// <c>Portal:Tenants:N</c>). Caller step-up is configured when <see cref="DemoSecretReferences.StepUpClient"/> is given,
    /// the recovery notices' relay when <paramref name="mailSinkPort"/> (<see cref="EmulatorHost.MailSinkPort"/>) is.
    /// </summary>
    public static Dictionary<string, string?> Okta(Uri root, DemoSecretReferences secrets, int? mailSinkPort = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(secrets);
        var settings = new Dictionary<string, string?>
        {
            ["Id"] = OktaTenantId,
            ["DisplayName"] = "Demo Org (Okta)",
            ["EmailDomains:0"] = "demo.example",
            ["Idp:Kind"] = "Okta",
            ["Idp:BaseUrl"] = root.ToString(),
            ["Idp:ApiTokenSecret"] = secrets.OktaApiToken,

            // The id of the emulator's SSWS token, by which the portal tells its own actions in the System Log from others.
            ["Idp:Okta:ApiTokenId"] = EmulatorAdmins.OktaApiTokenId,
            ["Reconciliation:Enabled"] = "true",
            ["Reconciliation:PollSeconds"] = "10",
            ["AgentSignIn:Authority"] = new Uri(root, "oauth2/default").ToString(),
            ["AgentSignIn:ClientId"] = OktaAgentClientId,
            ["AgentSignIn:ClientSecretSecret"] = secrets.OktaAgentClient,
            ["AgentSignIn:RequiredAmr:0"] = "mfa",
            ["GroupTiers:Helpdesk Tier 1"] = "Tier 1",
            ["GroupTiers:Helpdesk Tier 2"] = "Tier 2",
            ["GroupTiers:Helpdesk Tier 3"] = "Tier 3",
            ["GroupTiers:Helpdesk Auditors"] = "Auditor",
            ["GroupTiers:Helpdesk Admins"] = "Tenant admin",

            // Recovery (docs/recovery.md): a caller who lost their phone can be verified by their manager's approval, by the
            // ID verification the org set up at Okta (the caller's phone page passes or fails it), or called back at the
            // work phone on file (weaker: it opens "Sign out everywhere" only).
            ["Recovery:ManagerApproval"] = "true",
            ["Recovery:CallBack"] = "true",
            ["Recovery:IdVerification"] = "true",

            // Executive targets (docs/tenancy.md): vera.exec@demo.example is in this group, so any action on her needs
            // two different methods in the same agent session.
            ["ExecutiveTargets:Groups:0"] = ExecutivesGroup,
        };
        if (secrets.StepUpClient is { } stepUp)
        {
            settings["StepUp:Authority"] = new Uri(root, "oauth2/callers").ToString();
            settings["StepUp:ClientId"] = StepUpClientId;
            settings["StepUp:ClientSecretSecret"] = stepUp;
        }

        AddMailRelay(settings, mailSinkPort, "notices@demo.example");
        return settings;
    }

    /// <summary>
    /// The demo Entra directory at the emulator's <paramref name="root"/>, as the settings of one tenant: Graph, agent
    /// sign-in and caller step-up at the Entra-like authority, group and app-role tiers, the directory audits read, and
    /// the recovery notices' relay when <paramref name="mailSinkPort"/> is given.
    /// </summary>
    public static Dictionary<string, string?> Entra(Uri root, DemoSecretReferences secrets, int? mailSinkPort = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(secrets);
        if (secrets.GraphClient is null || secrets.EntraAgentClient is null || secrets.StepUpClient is null)
        {
            throw new ArgumentException("The demo Entra directory needs the Graph, agent and step-up client secrets.", nameof(secrets));
        }

        var issuer = new Uri(root, EntraDemo.TenantId + "/v2.0").ToString();
        var settings = new Dictionary<string, string?>
        {
            ["Id"] = EntraTenantId,
            ["DisplayName"] = "Demo Org (Entra)",
            ["EmailDomains:0"] = "entra.example",
            ["Idp:Kind"] = "Entra",
            ["Idp:BaseUrl"] = new Uri(root, "v1.0").ToString(),
            ["Idp:ApiTokenSecret"] = secrets.GraphClient,
            ["Idp:Entra:DirectoryTenantId"] = EntraDemo.TenantId,
            ["Idp:Entra:ClientId"] = GraphClientId,
            ["Idp:Entra:TokenEndpoint"] = new Uri(root, EntraDemo.TenantId + "/oauth2/v2.0/token").ToString(),
            ["Reconciliation:Enabled"] = "true",
            ["Reconciliation:PollSeconds"] = "10",
            ["AgentSignIn:Authority"] = issuer,
            ["AgentSignIn:ClientId"] = EntraAgentClientId,
            ["AgentSignIn:ClientSecretSecret"] = secrets.EntraAgentClient,
            ["GroupTiers:" + EntraDemo.Tier1GroupId] = "Tier 1",
            ["GroupTiers:" + EntraDemo.Tier2GroupId] = "Tier 2",
            ["GroupTiers:" + EntraDemo.Tier3GroupId] = "Tier 3",
            ["GroupTiers:" + EntraDemo.AuditorsGroupId] = "Auditor",
            ["GroupTiers:" + EntraDemo.Tier3Role] = "Tier 3",

            // Recovery (docs/recovery.md): Graph cannot push to the manager with number matching, so the manager (Grace's
            // is Riley Director) approves by a step-up sign-in whose link goes to their address on file; and a call-back
            // to the work phone on file.
            ["Recovery:ManagerApproval"] = "true",
            ["Recovery:CallBack"] = "true",
            ["StepUp:Authority"] = issuer,
            ["StepUp:ClientId"] = StepUpClientId,
            ["StepUp:ClientSecretSecret"] = secrets.StepUpClient,
            ["StepUp:RequiredAcrs:0"] = "c1",
        };
        AddMailRelay(settings, mailSinkPort, "notices@entra.example");
        return settings;
    }

    /// <summary>
    /// The recovery notices' SMTP relay (<c>Recovery:Notices:Smtp</c>, docs/recovery.md): the emulator's mail sink on
    /// loopback, without TLS (<c>Security=None</c>, which the portal accepts only for a loopback relay outside Production).
    /// </summary>
    private static void AddMailRelay(Dictionary<string, string?> settings, int? mailSinkPort, string from)
    {
        if (mailSinkPort is not { } port)
        {
            return;
        }

        settings["Recovery:Notices:Smtp:Host"] = "127.0.0.1";
        settings["Recovery:Notices:Smtp:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Recovery:Notices:Smtp:From"] = from;
        settings["Recovery:Notices:Smtp:Security"] = "None";
    }

    /// <summary>
    /// A tenants file (<c>Portal:TenantsFile</c>, docs/configuration.md): <c>{ "Tenants": [ … ] }</c>, each tenant's
    /// settings nested as configuration reads them back (a list's items keyed "0", "1", …).
    /// </summary>
    public static string TenantsFile(params IReadOnlyDictionary<string, string?>[] tenants)
    {
        ArgumentNullException.ThrowIfNull(tenants);
        var list = new JsonArray();
        foreach (var tenant in tenants)
        {
            var obj = new JsonObject();
            foreach (var (key, value) in tenant)
            {
                var node = obj;
                var path = key.Split(':');
                for (var i = 0; i < path.Length - 1; i++)
                {
                    if (node[path[i]] is not JsonObject child)
                    {
                        child = [];
                        node[path[i]] = child;
                    }

                    node = child;
                }

                node[path[^1]] = value;
            }

            list.Add(obj);
        }

        return new JsonObject { ["Tenants"] = list }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }
}

/// <summary>
/// The secret references (<c>env:NAME</c> or <c>file:/path</c>, docs/configuration.md) the demo organisations' settings
/// name, one per credential; the values stay where the references point.
/// </summary>
public sealed record DemoSecretReferences(string OktaApiToken, string OktaAgentClient)
{
    public string? StepUpClient { get; init; }

    public string? EntraAgentClient { get; init; }

    public string? GraphClient { get; init; }
}
