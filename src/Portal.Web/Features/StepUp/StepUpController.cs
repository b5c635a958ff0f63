using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Verification.StepUp;

namespace Portal.Web.Features.StepUp;

/// <summary>The code page; <see cref="Manager"/> says who is asking and for what when the link is a manager's approval.</summary>
public sealed record StepUpCodePage(string Token, bool WrongCode, ManagerRequest? Manager = null);

/// <summary>
/// The caller's side of a step-up: anonymous (the caller is no agent). The pages say nothing about the caller, the
/// agent or why a verification failed: whoever holds a forwarded link learns nothing from it. A manager's approval link
/// (sent to the manager's own address, docs/recovery.md) says who is asking, masked, and for what: the manager must know
/// what they vouch for before they sign in.
/// </summary>
[AllowAnonymous]
[Route("stepup")]
public sealed class StepUpController(StepUpService stepUp, Microsoft.Extensions.Options.IOptions<WebOptions> web) : Controller
{
    [HttpGet("{token}")]
    public async Task<IActionResult> Open(string token)
    {
        // A GET changes nothing: mail scanners and link previews that fetch the link do not spend it.
        NoStore();
        return await stepUp.IsOpenAsync(RequestContext.Of(HttpContext), token, HttpContext.RequestAborted)
            ? View("Code", new StepUpCodePage(token, false, await stepUp.ManagerRequestAsync(token, HttpContext.RequestAborted)))
            : Done(false);
    }

    [HttpPost("{token}")]
    public async Task<IActionResult> Enter(string token, [FromForm] string? code)
    {
        NoStore();
        var (next, refusal) = await stepUp.OpenAsync(RequestContext.Of(HttpContext), token, code, HttpContext.RequestAborted);
        if (refusal == StepUpRedirect.WrongCode)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return View("Code", new StepUpCodePage(token, true, await stepUp.ManagerRequestAsync(token, HttpContext.RequestAborted)));
        }

        if (next is null)
        {
            return Done(false);
        }

        Response.Cookies.Append(BrowserCookie, next.BrowserValue, new CookieOptions
        {
            HttpOnly = true,
            Secure = web.Value.RequireHttps,
            SameSite = SameSiteMode.Lax,
            Path = "/",
            MaxAge = TimeSpan.FromMinutes(10),
        });

        // Not a redirect to the IdP: the browser would apply the CSP's form-action 'self' to every hop of this
        // form's navigation and refuse it (docs/security-decisions.md). A same-origin page navigates there by GET.
        return this.SeeOther("/stepup/continue/" + next.State);
    }

    /// <summary>
    /// The page between the code form and the IdP: it sends the browser to the IdP's sign-in by a GET navigation
    /// (a meta refresh, plus a link for a browser that ignores it), which form-action does not govern.
    /// </summary>
    [HttpGet("continue/{state}")]
    public async Task<IActionResult> Continue(string state)
    {
        NoStore();
        var authorize = await stepUp.ContinueAsync(RequestContext.Of(HttpContext), state, Request.Cookies[BrowserCookie], HttpContext.RequestAborted);
        return authorize is null ? Done(false) : View("Continue", authorize);
    }

    [HttpGet("callback")]
    public async Task<IActionResult> Callback([FromQuery] string? code, [FromQuery] string? state, [FromQuery] string? error)
    {
        NoStore();
        var verified = await stepUp.CallbackAsync(RequestContext.Of(HttpContext), state, code, error, Request.Cookies[BrowserCookie], HttpContext.RequestAborted);
        Response.Cookies.Delete(BrowserCookie, new CookieOptions { Path = "/", Secure = web.Value.RequireHttps, HttpOnly = true, SameSite = SameSiteMode.Lax });
        return Done(verified);
    }

    private string BrowserCookie => web.Value.RequireHttps ? "__Host-portal-stepup" : "portal-stepup";

    private ViewResult Done(bool verified)
    {
        if (!verified)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }

        return View("Done", verified);
    }

    private void NoStore() => Response.Headers.CacheControl = "no-store";
}
