using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Portal.Web.Platform;
using Portal.Web.Verification.Recovery;

namespace Portal.Web.Features.Recovery;

public sealed record NotMePage(string Token, string Organisation);

/// <summary>
/// The "This wasn't me" link of a recovery notice (docs/recovery.md, "Recovery notices"): anonymous, like the step-up
/// link, limited per client address like every anonymous route. A GET shows what the button will do and changes
/// nothing (mail scanners fetch links); the POST does it, once. An unknown or expired link is a plain 404.
/// </summary>
[AllowAnonymous]
[Route("recovery")]
public sealed class RecoveryController(RecoveryDisputes disputes) : Controller
{
    [HttpGet("not-me/{token}")]
    public async Task<IActionResult> NotMe(string token)
    {
        NoStore();
        var (state, organisation) = await disputes.OpenAsync(token, HttpContext.RequestAborted);
        return state == DisputeResult.Done && organisation is not null ? View("NotMe", new NotMePage(token, organisation)) : Result(state);
    }

    [HttpPost("not-me/{token}")]
    public async Task<IActionResult> Dispute(string token)
    {
        NoStore();
        return Result(await disputes.DisputeAsync(RequestContext.Of(HttpContext), token, HttpContext.RequestAborted));
    }

    private ViewResult Result(DisputeResult result)
    {
        Response.StatusCode = result switch
        {
            DisputeResult.Gone => StatusCodes.Status404NotFound,
            DisputeResult.AlreadyUsed => StatusCodes.Status409Conflict,
            _ => StatusCodes.Status200OK,
        };
        return View("NotMeDone", result);
    }

    private void NoStore() => Response.Headers.CacheControl = "no-store";
}
