using Portal.Idp;
using Portal.Web.Tenancy;

namespace Portal.Web.Verification;

/// <summary>Whether a caller is a privileged account (docs/security-requirements.md V7), as far as the IdP could tell.</summary>
public enum PrivilegeState
{
    /// <summary>Both answers known: no admin role, and no group the tenant names as privileged.</summary>
    NotPrivileged,

    /// <summary>An admin role, or a privileged group.</summary>
    Privileged,

    /// <summary>The IdP refused to say (e.g. no right to read roles): counted as privileged, fail closed.</summary>
    Unknown,

    /// <summary>The IdP did not answer: nothing can be done on the account now.</summary>
    IdpUnavailable,
}

/// <summary>The verdict, with which answers were unknown (for the audit reason) and the IdP's error when it did not answer.</summary>
public sealed record PrivilegeVerdict(PrivilegeState State, bool RolesUnknown, bool GroupsUnknown, IdpError? Down)
{
    /// <summary>Why the answer is <see cref="PrivilegeState.Unknown"/>: the IdP's refusal, or e.g. more groups than the portal reads; null otherwise.</summary>
    public IdpError? UnknownBecause { get; init; }

    /// <summary>An action on this caller needs a second agent's approval (privileged, or not known not to be).</summary>
    public bool NeedsApproval => State is PrivilegeState.Privileged or PrivilegeState.Unknown;
}

/// <summary>
/// V7: an IdP administrator (an admin role, or one of the tenant's privileged groups) is the prize of a
/// social-engineering call. One rule for the console, which shows the marker at look-up, and for the actions,
/// which ask for a second agent's approval: not privileged only when both answers are known.
/// </summary>
public static class PrivilegedTargets
{
    public static async Task<PrivilegeVerdict> CheckAsync(ICallerDirectory directory, TenantSettings tenant, string callerId, CancellationToken ct)
    {
        IdpResult<IReadOnlyList<string>> roles;
        IdpResult<IReadOnlyList<string>> groups = IdpResult<IReadOnlyList<string>>.Success([]);
        try
        {
            roles = await directory.ListAdminRolesAsync(callerId, ct);
            if (roles.IsSuccess && roles.Value.Count == 0 && tenant.Idp.Kind == IdpKind.Okta && tenant.PrivilegedGroups.Count > 0)
            {
                groups = await directory.ListGroupsAsync(callerId, ct);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            roles = new IdpError(IdpErrorKind.Unavailable, "unreachable", "The identity provider did not answer.");
        }

        if (roles.IsSuccess && roles.Value.Count == 0
            && groups.IsSuccess && !groups.Value.Any(g => tenant.PrivilegedGroups.Contains(g, StringComparer.OrdinalIgnoreCase)))
        {
            return new PrivilegeVerdict(PrivilegeState.NotPrivileged, false, false, null);
        }

        if ((roles.Error ?? groups.Error) is { Kind: IdpErrorKind.Unavailable or IdpErrorKind.RateLimited } down)
        {
            return new PrivilegeVerdict(PrivilegeState.IdpUnavailable, !roles.IsSuccess, !groups.IsSuccess, down);
        }

        var known = (roles.IsSuccess && roles.Value.Count > 0)
            || (groups.IsSuccess && groups.Value.Any(g => tenant.PrivilegedGroups.Contains(g, StringComparer.OrdinalIgnoreCase)));
        // A failed read of the groups (refused, more pages than the portal reads, a next link on another host) is never
        // read as "not in a privileged group": fail closed.
        return new PrivilegeVerdict(known ? PrivilegeState.Privileged : PrivilegeState.Unknown, !roles.IsSuccess, !groups.IsSuccess, null)
        {
            UnknownBecause = known ? null : roles.Error ?? groups.Error,
        };
    }
}
