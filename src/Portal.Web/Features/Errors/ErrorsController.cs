using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;

namespace Portal.Web.Features.Errors;

public sealed record ErrorPage(int Status, string RequestId);

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
        return View(new ErrorPage(Response.StatusCode, Activity.Current?.TraceId.ToString() ?? HttpContext.TraceIdentifier));
    }
}
