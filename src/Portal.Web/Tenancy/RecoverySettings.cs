namespace Portal.Web.Tenancy;

/// <summary>
/// How a tenant recovers a caller who cannot use their own factors (section <c>Portal:Tenants:N:Recovery</c>,
/// docs/recovery.md): which recovery methods the console offers, and whether an action done through one also needs a
/// second agent's approval. Off by default: a tenant turns recovery on knowingly.
/// </summary>
public sealed class RecoverySettings
{
    /// <summary>Whether agents may verify a caller by their manager's approval (<c>recovery.manager</c>).</summary>
    public bool ManagerApproval { get; set; }

    /// <summary>Whether every action done through a recovery method also needs a second agent's approval, as for a privileged target.</summary>
    public bool RequireSecondAgent { get; set; }
}
