using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Portal.Audit;
using Portal.Web.Authorization;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Audit;

public sealed record AuditListPage(IReadOnlyList<AuditRecord> Records, string? NextCursor);

[Route("audit")]
[Authorize(Policy = Permissions.AuditRead)]
public sealed class AuditController(IAuditTrail audit) : Controller
{
    /// <summary>The agent's own tenant's records, newest first. The tenant comes from the session, never the query.</summary>
    [HttpGet("")]
    public async Task<IActionResult> Index([FromQuery] string? cursor)
    {
        var agent = AgentContext.From(User)!;
        var page = await audit.QueryAsync(agent.TenantId, new AuditQuery { Cursor = cursor, PageSize = 50 }, HttpContext.RequestAborted);
        return View(new AuditListPage(page.Records, page.NextCursor));
    }
}
