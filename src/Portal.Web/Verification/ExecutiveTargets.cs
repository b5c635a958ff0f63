using Portal.Idp;
using Portal.Web.Tenancy;

namespace Portal.Web.Verification;

/// <summary>Whether a caller is an executive target (docs/tenancy.md, "Executive targets: two independent methods"), as far as the IdP could tell.</summary>
public enum ExecutiveState
{
    /// <summary>The tenant names no executive group, or the caller is in none of them.</summary>
    NotExecutive,

    /// <summary>The caller is in one of the tenant's executive groups.</summary>
    Executive,

    /// <summary>The IdP did not say (refused or did not answer): an action treats the caller as an executive (fail closed).</summary>
    Unknown,
}

/// <summary>Where a verification stands with the executive-target rule, for its page.</summary>
public enum ExecutiveChain
{
    /// <summary>The caller is not an executive target: the rule asks nothing.</summary>
    NotExecutive,

    /// <summary>An executive target verified by one method: a second, different one is needed before any action.</summary>
    NeedsSecond,

    /// <summary>The second of two live verifications by different methods: actions may go ahead.</summary>
    Holds,

    /// <summary>The second verification, but the first has ended (or cannot be read): start again.</summary>
    PriorEnded,
}

/// <summary>
/// Executive targets: members of the IdP groups a tenant names in <see cref="TenantSettings.ExecutiveTargets"/>. One rule for
/// the console (a marker at look-up, "could not check" when the IdP does not say), the session page and the action,
/// which treats an unknown answer as executive. No group named: nobody is, and the IdP is not asked.
/// </summary>
public static class ExecutiveTargets
{
    /// <summary>What the console and the session page say of an executive target.</summary>
    public const string Note = "Executive: your organisation requires a second, independent method before any action.";

    /// <summary>The refusal code of an action on an executive target verified by one method only.</summary>
    public const string SecondMethodRequiredCode = "second_method_required";

    /// <summary>
    /// Whether <paramref name="session"/> is the second of two live verifications of its caller by the same agent session,
    /// by different methods: it names a prior of another method, and that prior (read as <paramref name="prior"/>) is the
    /// same agent session's, agent's and caller's, of the method named, and has not ended at <paramref name="now"/>.
    /// </summary>
    public static bool ChainHolds(VerificationSession session, VerificationSession? prior, DateTimeOffset now) =>
        session.PriorVerificationId is { } priorId && session.PriorMethod is { } priorMethod
        && !string.Equals(priorMethod, session.Method, StringComparison.Ordinal)
        && prior is not null && prior.Id == priorId && prior.TenantId == session.TenantId
        && prior.AgentSessionId == session.AgentSessionId && prior.AgentSubject == session.AgentSubject
        && prior.CallerIdHash == session.CallerIdHash && prior.Method == priorMethod
        && now < prior.ExpiresAt && now < session.ExpiresAt;

    public static async Task<ExecutiveState> CheckAsync(ICallerDirectory directory, TenantSettings tenant, string callerId, CancellationToken ct) =>
        (await VerdictAsync(directory, tenant, callerId, ct)).State;

    /// <summary>
    /// The state, with the IdP's error when it did not answer (<see cref="IdpErrorKind.Unavailable"/> or rate limited):
    /// then nothing can be done on the account anyway, and the action tells the agent so rather than asking for a
    /// second method that would not help.
    /// </summary>
    public static async Task<(ExecutiveState State, IdpError? Down)> VerdictAsync(ICallerDirectory directory, TenantSettings tenant, string callerId, CancellationToken ct)
    {
        var named = tenant.ExecutiveTargets.Groups;
        if (named.Count == 0)
        {
            return (ExecutiveState.NotExecutive, null);
        }

        try
        {
            var groups = await directory.ListGroupsAsync(callerId, ct);
            if (!groups.IsSuccess)
            {
                return (ExecutiveState.Unknown, groups.Error.Kind is IdpErrorKind.Unavailable or IdpErrorKind.RateLimited ? groups.Error : null);
            }

            return (groups.Value.Any(g => named.Contains(g, StringComparer.OrdinalIgnoreCase)) ? ExecutiveState.Executive : ExecutiveState.NotExecutive, null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return (ExecutiveState.Unknown, new IdpError(IdpErrorKind.Unavailable, "unreachable", "The identity provider did not answer."));
        }
    }

    /// <summary>Whether an action on a caller in this state needs two different methods (executive, or not known not to be).</summary>
    public static bool NeedsSecondMethod(ExecutiveState state) => state != ExecutiveState.NotExecutive;
}
