using System.Diagnostics;
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
    public IActionResult Error(int? status)
    {
        var code = status ?? StatusCodes.Status500InternalServerError;
        Response.StatusCode = code is >= 400 and <= 599 ? code : StatusCodes.Status500InternalServerError;
        return View(new ErrorPage(Response.StatusCode, Activity.Current?.TraceId.ToString() ?? HttpContext.TraceIdentifier));
    }

    [HttpGet("/healthz")]
    public IActionResult Health() => Content("ok", "text/plain");
}
