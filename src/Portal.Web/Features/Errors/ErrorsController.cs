using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Portal.Web.Agents;

namespace Portal.Web.Features.Errors;

/// <summary>An error page; <see cref="MissingPermission"/> names what a refused agent's tier lacks (a 403 by permission).</summary>
public sealed record ErrorPage(int Status, string RequestId, string? MissingPermission = null);

/// <summary>Errors show a status and a request id, never exception text or stack traces.</summary>
[AllowAnonymous]
[ApiExplorerSettings(IgnoreApi = true)]
public sealed class ErrorsController : Controller
{
    [Route("/error")]
    [Route("/error/{status:int}")]
    [IgnoreAntiforgeryToken]
    public IActionResult Error()
    {
        // Read from the route only, never bound: this page also renders for a refused POST whose body could
        // not be read (a NUL in a form field), and binding would read that body again and turn a 400 into a 500.
        var code = RouteData.Values.TryGetValue("status", out var raw) && int.TryParse(raw as string, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : StatusCodes.Status500InternalServerError;
        Response.StatusCode = code is >= 400 and <= 599 ? code : StatusCodes.Status500InternalServerError;
        var missing = Response.StatusCode == StatusCodes.Status403Forbidden ? HttpContext.Items[AuditingAuthorizationResultHandler.MissingPermissionItem] as string : null;
        return View(new ErrorPage(Response.StatusCode, Activity.Current?.TraceId.ToString() ?? HttpContext.TraceIdentifier, missing));
    }
}
