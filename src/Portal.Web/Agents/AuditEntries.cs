using System.Diagnostics;
using Portal.Audit;

namespace Portal.Web.Agents;

/// <summary>Builds audit entries from the request: who (the agent), where (client address, user agent), which request.</summary>
internal static class AuditEntries
{
    public static AuditEntry For(HttpContext http, AgentContext agent, string action, AuditOutcome outcome, string? reason = null) => new()
    {
        TenantId = agent.TenantId,
        Action = action,
        Outcome = outcome,
        Reason = reason,
        AgentSubjectId = agent.Subject,
        AgentLogin = agent.MaskedLogin,
        RequestId = http.TraceIdentifier,
        TraceId = Activity.Current?.TraceId.ToString(),
        ClientAddress = http.Connection.RemoteIpAddress?.ToString(),
        UserAgent = http.Request.Headers.UserAgent.ToString(),
    };
}
