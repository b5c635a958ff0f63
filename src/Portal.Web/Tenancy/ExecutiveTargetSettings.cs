using Portal.Idp.Entra;

namespace Portal.Web.Tenancy;

/// <summary>
/// Executive targets (section <c>Portal:Tenants:N:ExecutiveTargets</c>, docs/tenancy.md "Executive targets: two
/// independent methods"): the IdP groups whose members (the CEO, the CFO, the board) are the prize of a
/// social-engineering call. Any action on such a caller needs the caller verified by two different methods in the same
/// agent session, both still live. Empty: no caller is an executive target.
/// </summary>
public sealed class ExecutiveTargetSettings
{
    /// <summary>The prefixes of the entries Microsoft Graph gives for a caller in Entra, as the directory writes them (<see cref="EntraPrivilegeNames"/>).</summary>
    public static IReadOnlyList<string> EntraPrefixes => EntraPrivilegeNames.Prefixes;

    /// <summary>
    /// Okta: group names, as <c>ICallerDirectory.ListGroupsAsync</c> reads them (a group's <c>profile.name</c>). Entra:
    /// that call lists only directory roles and role-assignable groups, as <c>role: {name}</c>, <c>eligible role: {name}</c>
    /// and <c>role-assignable group: {display name}</c>, so an entry names one of those, written that way. Compared
    /// without regard to case.
    /// </summary>
    public List<string> Groups { get; set; } = [];
}
