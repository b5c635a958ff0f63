using Portal.Audit;
using Portal.Web.Platform;

namespace Portal.Web.Agents;

/// <summary>Builds audit entries for an agent's request: who (the agent), where (client address, user agent), which request.</summary>
internal static class AuditEntries
{
    public static AuditEntry For(AgentRequest request, string action, AuditOutcome outcome, string? reason = null) =>
        For(request.Origin, request.Agent, action, outcome, reason);

    /// <summary>For a request made on an agent's behalf by someone else's browser (a caller's step-up) or before the tenant is known.</summary>
    public static AuditEntry For(RequestContext origin, AgentContext agent, string action, AuditOutcome outcome, string? reason = null) => new()
    {
        TenantId = agent.TenantId,
        Action = action,
        Outcome = outcome,
        Reason = reason,
        AgentSubjectId = agent.Subject,
        AgentLogin = agent.MaskedLogin,
        RequestId = origin.RequestId,
        TraceId = origin.TraceId,
        ClientAddress = origin.ClientAddress,
        UserAgent = origin.UserAgent,
    };
}
