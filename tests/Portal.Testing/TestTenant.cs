using Microsoft.IdentityModel.Tokens;

namespace Portal.Testing;

/// <summary>The IdP a test tenant's agents sign in at and its directory is read from.</summary>
public enum TestIdp
{
    /// <summary>The emulator's Okta org: API token, agents at the Okta-like issuer.</summary>
    Okta,

    /// <summary>The emulator's Entra directory: Graph with client credentials, agents at the Entra-like issuer.</summary>
    Entra,
}

/// <summary>
/// One organisation of a <see cref="PortalHost"/>, on the host's one emulator: the host registers its clients at the
/// emulator and writes its <c>Portal:Tenants:{n}</c> settings, in the order the tenants were added.
/// </summary>
public sealed class TestTenant(string id, TestIdp idp, string agentClientId)
{
    public string Id { get; } = id;

    public TestIdp Idp { get; } = idp;

    /// <summary>The agent sign-in client's id at the emulator.</summary>
    public string AgentClientId { get; } = agentClientId;

    /// <summary>The Graph (client credentials) client's id, for an Entra tenant.</summary>
    public string? GraphClientId { get; init; }

    public string? DisplayName { get; init; }

    public IReadOnlyList<string> EmailDomains { get; init; } = [];

    /// <summary>IdP group (or role) to tier, beyond the portal's defaults.</summary>
    public IReadOnlyDictionary<string, string> GroupTiers { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<string> PrivilegedGroups { get; init; } = [];

    /// <summary>IdP groups whose members are executive targets (<c>ExecutiveTargets:Groups</c>, docs/tenancy.md).</summary>
    public IReadOnlyList<string> ExecutiveGroups { get; init; } = [];

    /// <summary>The caller step-up at the emulator (the Okta-like caller issuer, or the Entra-like one), with the host's step-up client.</summary>
    public bool StepUp { get; init; }

    public IReadOnlyList<string> StepUpRequiredAcrs { get; init; } = [];

    /// <summary>Turns on <c>entra.push</c> (the Azure MFA connector at the emulator), for an Entra tenant.</summary>
    public bool EntraPush { get; init; }

    /// <summary>The public key the emulator accepts the agent client's assertions with (private_key_jwt), for an Okta tenant.</summary>
    public SecurityKey? ClientAssertionKey { get; init; }
}
