using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Portal.Audit;
using Portal.Web.Agents;
using Portal.Web.Tenancy;
using Portal.Web.Verification.Actions;

namespace Portal.Web.Features.Admin;

public sealed record ApprovalsPage(IReadOnlyList<ApprovalRequest> Requests, string Subject, IReadOnlySet<string> Permissions, string? Message, DateTimeOffset Now)
{
    /// <summary>What the page's script compares to notice a change of the queue (see <see cref="ApprovalsController.Queue"/>).</summary>
    public string QueueVersion => ApprovalsController.VersionOf(Requests);

    /// <summary>The requesting agents by subject id, named by the IdP when the page is drawn.</summary>
    public IReadOnlyDictionary<string, AgentName> Agents { get; init; } = new Dictionary<string, AgentName>();
}

/// <summary>
/// The second agent's side of the privileged-target rule (V7): the tenant's pending requests, which an agent
/// who holds the action's own permission, and is not the requester, may approve or reject. Both are audited.
/// </summary>
[Route("approvals")]
public sealed class ApprovalsController(ApprovalStore approvals, IAuditTrail audit, BrowserHandover handover, TimeProvider clock, AgentNames agentNames) : AgentController
{
    private const string PagePath = "/Features/Admin/Views/Approvals.cshtml";
    private const string QueuePath = "/approvals";
    private const string DecidedPurpose = "approval-decided";

    [HttpGet("")]
    [Authorize(Policy = Permissions.CallerVerify)]
    public async Task<IActionResult> Index()
    {
        var agent = Current.Agent;
        var decided = handover.Take<DecisionShown>(Request, Response, DecidedPurpose, agent, QueuePath);
        return await PageAsync(decided?.Message);
    }

    /// <summary>
    /// The queue's version (a hash of the pending requests' ids), for the page's script: it reloads the page
    /// when the queue changes, so a new request or another agent's decision shows without a click.
    /// </summary>
    [HttpGet("queue")]
    [Authorize(Policy = Permissions.CallerVerify)]
    public async Task<IActionResult> Queue()
    {
        var agent = Current.Agent;
        return Json(new { value = VersionOf(await approvals.PendingAsync(agent.TenantId, HttpContext.RequestAborted)) });
    }

    internal static string VersionOf(IEnumerable<ApprovalRequest> requests) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join(",", requests.Select(r => r.Id)))))[..16];

    [HttpPost("{id}/approve")]
    [Authorize(Policy = Permissions.CallerVerify)]
    public Task<IActionResult> Approve(string id) => DecideAsync(id, approve: true);

    [HttpPost("{id}/reject")]
    [Authorize(Policy = Permissions.CallerVerify)]
    public Task<IActionResult> Reject(string id) => DecideAsync(id, approve: false);

    private async Task<IActionResult> DecideAsync(string id, bool approve)
    {
        var agent = Current.Agent;
        var tenant = Current.Tenant;

        // Read in the agent's own tenant only: an id of another tenant's request finds nothing here.
        var request = await approvals.GetAsync(agent.TenantId, id, HttpContext.RequestAborted);
        var action = approve ? "approval.approve" : "approval.reject";
        var entry = AuditEntries.For(Current, action, AuditOutcome.Denied);
        if (request is null)
        {
            await audit.RecordAsync(entry with { Reason = "not_found" }, HttpContext.RequestAborted);
            Response.StatusCode = StatusCodes.Status404NotFound;
            return await PageAsync("There is no such request.");
        }

        if (!PermissionHandler.PermissionsOf(tenant, agent.Tiers).Contains(request.Permission))
        {
            await audit.RecordAsync(entry with { Reason = "missing:" + request.Permission }, HttpContext.RequestAborted);
            Response.StatusCode = StatusCodes.Status403Forbidden;
            return await PageAsync("Your tier does not allow this action, so you cannot approve it.");
        }

        var (result, _) = await approvals.DecideAsync(agent.TenantId, id, agent, approve, HttpContext.RequestAborted);
        var outcome = result == ApprovalDecisionResult.Decided ? AuditOutcome.Succeeded : AuditOutcome.Denied;
        var reason = result switch
        {
            ApprovalDecisionResult.Decided => request.Action,
            ApprovalDecisionResult.SelfApproval => "self_approval",
            ApprovalDecisionResult.NotPending => "not_pending",
            _ => "not_found",
        };
        await audit.RecordAsync(entry with { Outcome = outcome, Reason = reason, CallerLogin = request.CallerMaskedLogin, CallerIdHash = request.CallerIdHash }, HttpContext.RequestAborted);
        if (result != ApprovalDecisionResult.Decided)
        {
            Response.StatusCode = result == ApprovalDecisionResult.SelfApproval ? StatusCodes.Status403Forbidden : StatusCodes.Status409Conflict;
        }

        if (result == ApprovalDecisionResult.Decided)
        {
            // Post/Redirect/Get: F5 on the queue decides nothing twice.
            var message = !approve ? "Rejected."
                : request.AskedBeforeVerifying ? "Approved. The requesting agent can submit the action once, after verifying the caller."
                : "Approved. The requesting agent can now submit the action once.";
            handover.Keep(Response, DecidedPurpose, agent, QueuePath, new DecisionShown(message), clock.GetUtcNow().AddMinutes(2));
            return this.SeeOther(QueuePath);
        }

        return await PageAsync(result switch
        {
            ApprovalDecisionResult.SelfApproval => "You cannot approve your own request: another agent must.",
            ApprovalDecisionResult.NotPending => "This request was already decided or has expired.",
            _ => "There is no such request.",
        });
    }

    private async Task<IActionResult> PageAsync(string? message)
    {
        var agent = Current.Agent;
        var tenant = Current.Tenant;
        var pending = await approvals.PendingAsync(agent.TenantId, HttpContext.RequestAborted);
        return View(PagePath, new ApprovalsPage(pending, agent.Subject, PermissionHandler.PermissionsOf(tenant, agent.Tiers), message, clock.GetUtcNow())
        {
            Agents = await agentNames.ResolveAsync(tenant, pending.Select(r => r.RequesterSubject), HttpContext.RequestAborted),
        });
    }

    private sealed record DecisionShown(string Message);
}
