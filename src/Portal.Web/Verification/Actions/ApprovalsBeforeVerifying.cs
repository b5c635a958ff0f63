using Portal.Audit;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Verification.Actions;

/// <summary>One action the agent may take on a privileged caller, and where its approval stands (null: not asked for).</summary>
public sealed record ApprovalBeforeVerifying(CallerAction Action, ApprovalRequest? Request);

/// <summary>
/// V7 at look-up: for a privileged caller, the agent can ask a colleague for the approval while still verifying the
/// caller, so that the call does not wait for the queue after the verification (docs/tenancy.md, "Approvals"). The
/// request is the agent's own, for this caller and this action only, used once, and lasts
/// <see cref="ApprovalStore.AskedAtLookupLifetime"/>; it lets nothing happen by itself: the action still needs a live
/// verification of the caller by the same agent, with a method the tenant accepts.
/// </summary>
public sealed class ApprovalsBeforeVerifying(
    TenantDirectories directories,
    CallerReferences references,
    ICallerPseudonymizer pseudonyms,
    ApprovalStore approvals,
    IAuditTrail audit,
    AgentNames names)
{
    /// <summary>The actions this agent may take, each with the approval asked for at look-up, if any, still live and not used.</summary>
    public async Task<IReadOnlyList<ApprovalBeforeVerifying>> ForCallerAsync(AgentContext agent, TenantSettings tenant, IReadOnlySet<string> permissions, string callerRef, CancellationToken ct)
    {
        if (references.FromForm(agent, callerRef) is not var (callerId, _))
        {
            return [];
        }

        var idHash = pseudonyms.HashCallerId(tenant.Id, callerId);
        var list = new List<ApprovalBeforeVerifying>();
        foreach (var action in CallerAction.All.Where(a => permissions.Contains(a.Permission)))
        {
            var request = await approvals.GetAsync(tenant.Id, ApprovalStore.IdBeforeVerifying(agent.Subject, idHash, action.Name), ct);
            list.Add(new ApprovalBeforeVerifying(action, request is { State: not ApprovalState.Used } && request.ExpiresAt > approvals.Now && request.RequesterSubject == agent.Subject ? request : null));
        }

        return list;
    }

    /// <summary>The decider's name as the IdP knows them now (their masked login when it cannot say).</summary>
    public async Task<IReadOnlyDictionary<string, AgentName>> DecidersAsync(TenantSettings tenant, IEnumerable<ApprovalBeforeVerifying> approvalsShown, CancellationToken ct) =>
        await names.ResolveAsync(tenant, approvalsShown.Select(a => a.Request?.DeciderSubject).OfType<string>().Distinct(StringComparer.Ordinal), ct);

    /// <summary>
    /// Asks for a colleague's approval of <paramref name="actionName"/> on the caller the console's form names. Refused
    /// when the agent's tiers do not include the action, when the form is stale, or when the caller turns out not to
    /// need an approval. Returns the caller's login, so that the console can show the caller again.
    /// </summary>
    public async Task<Outcome<string>> AskAsync(AgentRequest request, IReadOnlySet<string> permissions, string? callerRef, string? actionName, CancellationToken ct)
    {
        var (agent, tenant, _) = request;
        var action = CallerAction.All.FirstOrDefault(a => a.Name == actionName);
        if (action is null || !permissions.Contains(action.Permission))
        {
            return new Refusal("not_permitted", "Your tier does not include that action, so there is nothing to ask approval for.");
        }

        if (references.FromForm(agent, callerRef) is not var (callerId, maskedLogin))
        {
            return Refusal.StaleForm;
        }

        var directory = directories.For(tenant);
        var entry = AuditEntries.For(request, "approval.request", AuditOutcome.Pending) with { CallerId = callerId, CallerLogin = maskedLogin };
        var verdict = await PrivilegedTargets.CheckAsync(directory, tenant, callerId, ct);
        if (verdict.Down is { } down)
        {
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Failed, Reason = down.Code }, ct);
            return new Refusal(down.Code, down.AgentMessage, RefusalKind.IdpFailed);
        }

        // Heightened-threat mode (docs/tenancy.md) asks a second agent for every action, so any caller's may be asked for early.
        if (!verdict.NeedsApproval && !tenant.HeightenedMode.On)
        {
            return new Refusal("not_privileged", "This caller is not a privileged account: no approval is needed. Verify the caller and act.");
        }

        var caller = await directory.GetCallerAsync(callerId, ct);
        if (!caller.IsSuccess)
        {
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Failed, Reason = caller.Error.Code }, ct);
            return new Refusal(caller.Error.Code, caller.Error.AgentMessage, RefusalKind.IdpFailed);
        }

        var idHash = pseudonyms.HashCallerId(tenant.Id, callerId);
        var now = approvals.Now;
        var asked = new ApprovalRequest
        {
            Id = ApprovalStore.IdBeforeVerifying(agent.Subject, idHash, action.Name),
            TenantId = tenant.Id,
            VerificationId = "",
            Action = action.Name,
            Permission = action.Permission,
            RequesterSubject = agent.Subject,
            RequesterMaskedLogin = agent.MaskedLogin,
            CallerIdHash = idHash,
            CallerMaskedLogin = maskedLogin,
            State = ApprovalState.Pending,
            CreatedAt = now,
            ExpiresAt = now + ApprovalStore.AskedAtLookupLifetime,
        };
        var stored = await approvals.AskBeforeVerifyingAsync(asked, ct);
        if (ReferenceEquals(stored, asked))
        {
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Succeeded, Reason = action.Name + " before_verification" + (verdict.RolesUnknown ? " roles_unknown" : "") + (verdict.GroupsUnknown ? " groups_unknown" : "") }, ct);
        }

        return caller.Value.Login;
    }
}
