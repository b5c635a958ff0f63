namespace Portal.Idp.Entra;

/// <summary>
/// How <see cref="GraphCallerDirectory"/> names what makes an Entra caller privileged in
/// <see cref="ICallerDirectory.ListGroupsAsync"/>: Graph lists only directory roles (active or PIM-eligible) and
/// role-assignable groups, each entry one of these prefixes and the role's or group's name. A tenant's settings that
/// name such entries (its executive targets) are checked against the same prefixes.
/// </summary>
public static class EntraPrivilegeNames
{
    /// <summary>An active directory role assignment: <c>role: {role name}</c>.</summary>
    public const string ActiveRole = "role: ";

    /// <summary>A PIM-eligible directory role: <c>eligible role: {role name}</c>.</summary>
    public const string EligibleRole = "eligible role: ";

    /// <summary>A role-assignable group the caller is in, directly or not: <c>role-assignable group: {display name}</c>.</summary>
    public const string RoleAssignableGroup = "role-assignable group: ";

    /// <summary>Every prefix, in the order the directory lists them.</summary>
    public static IReadOnlyList<string> Prefixes { get; } = [ActiveRole, EligibleRole, RoleAssignableGroup];
}
