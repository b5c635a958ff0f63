using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml;

namespace Portal.IdpEmulator;

/// <summary>An Authenticator push the Azure MFA connector sent and the caller has not answered yet (no number to pick).</summary>
public sealed record PendingEntraPush(string Id, string UserPrincipalName, string CallerName, DateTimeOffset CreatedAt);

/// <summary>
/// The Azure MFA connector (the NPS extension's service) as community tools call it: a v1 client-credentials token for
/// <see cref="Resource"/> issued to the first-party app <see cref="AppId"/>, then a synchronous
/// <c>BeginTwoWayAuthentication</c> that holds the request open until the caller taps Approve or Deny on the phone page.
/// </summary>
public static class MfaConnector
{
    /// <summary>The first-party "Azure Multi-Factor Auth Client" app whose service principal gets a client secret.</summary>
    public const string AppId = "981f26a1-7f43-403b-a875-f8b09b8cd720";

    public const string Resource = "https://adnotifications.windowsazure.com/StrongAuthenticationService.svc/Connector";

    /// <summary>How long the connector waits for the caller before answering <c>PhoneAppNoResponse</c>.</summary>
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(60);

    private const string DoubleSlashPath = "/StrongAuthenticationService.svc/Connector//BeginTwoWayAuthentication";
    private const string SingleSlashPath = "/StrongAuthenticationService.svc/Connector/BeginTwoWayAuthentication";
    private const int MaxBodyBytes = 16 * 1024;

    internal static void Map(WebApplication app, EmulatorState state, EmulatorContext context)
    {
        app.MapPost("/{tenant}/oauth2/token", (HttpContext http, string tenant) => IssueToken(http, state, context, tenant));

        // The double slash of the real address is not a route template can name, so the path is matched as a string.
        app.Use(async (http, next) =>
        {
            var path = http.Request.Path.Value;
            if (!HttpMethods.IsPost(http.Request.Method) || path is not (DoubleSlashPath or SingleSlashPath))
            {
                await next(http);
                return;
            }

            await BeginTwoWayAuthenticationAsync(http, state);
        });
    }

    private static IResult IssueToken(HttpContext http, EmulatorState state, EmulatorContext context, string tenant) =>
        EntraClientCredentials.Issue(
            http, context, tenant, knows: client => string.Equals(client.ClientId, AppId, StringComparison.Ordinal),
            refuseTarget: form => form["resource"] == Resource
                ? null
                : ("invalid_resource", "AADSTS500011: The resource principal named was not found in the tenant."),
            answer: _ => new JsonObject
            {
                ["token_type"] = "Bearer",
                ["expires_in"] = ((int)GraphDirectory.TokenLifetime.TotalSeconds).ToString(CultureInfo.InvariantCulture),
                ["ext_expires_in"] = ((int)GraphDirectory.TokenLifetime.TotalSeconds).ToString(CultureInfo.InvariantCulture),
                ["resource"] = Resource,
                ["access_token"] = state.EntraPushes.IssueToken(),
            });

    private static async Task BeginTwoWayAuthenticationAsync(HttpContext http, EmulatorState state)
    {
        var header = http.Request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) || !state.EntraPushes.IsValidToken(header[Scheme.Length..].Trim()))
        {
            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        if (http.Request.ContentLength is > MaxBodyBytes)
        {
            http.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return;
        }

        var request = await ReadRequestAsync(http);
        if (request is null)
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var user = state.FindEntraUser(request.Value.Upn);
        string value;
        bool? result = null;
        if (user is null)
        {
            value = "UserNotFound";
        }
        else if (!user.Methods.Any(m => m.ODataType == "microsoftAuthenticatorAuthenticationMethod"))
        {
            value = "NoDefaultAuthenticationMethodIsConfigured";
        }
        else
        {
            var push = state.EntraPushes.Create(user.UserPrincipalName, request.Value.CallerName, state.Now);
            try
            {
                var approved = await push.Answer.Task.WaitAsync(AnswerTimeout, state.Time, http.RequestAborted);
                (value, result) = approved ? ("Success", true) : ("PhoneAppDenied", false);
            }
            catch (TimeoutException)
            {
                (value, result) = ("PhoneAppNoResponse", false);
            }
            finally
            {
                state.EntraPushes.Remove(push.Info.Id);
            }
        }

        http.Response.ContentType = "application/xml; charset=utf-8";
        await http.Response.WriteAsync(ResponseXml(value, result, request.Value.ContextId), http.RequestAborted);
    }

    private static async Task<(string Upn, string CallerName, string ContextId)?> ReadRequestAsync(HttpContext http)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
        if (buffer.Length > MaxBodyBytes)
        {
            return null;
        }

        buffer.Position = 0;
        string? upn = null, caller = null, contextId = null, syncCall = null, method = null;
        try
        {
            using var reader = XmlReader.Create(buffer, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, Async = true });
            // ReadElementContentAs* already moves to the next node, so the loop reads on only when nothing was consumed.
            var more = await reader.ReadAsync();
            while (more)
            {
                if (reader.NodeType != XmlNodeType.Element || reader.Depth != 1 || reader.LocalName is not ("UserPrincipalName" or "CallerName" or "ContextId" or "SyncCall" or "AuthenticationMethodId"))
                {
                    more = await reader.ReadAsync();
                    continue;
                }

                var name = reader.LocalName;
                var text = await reader.ReadElementContentAsStringAsync();
                switch (name)
                {
                    case "UserPrincipalName": upn = text; break;
                    case "CallerName": caller = text; break;
                    case "ContextId": contextId = text; break;
                    case "AuthenticationMethodId": method = text; break;
                    default: syncCall = text; break;
                }

                more = !reader.EOF;
            }
        }
        catch (XmlException)
        {
            return null;
        }

        // The emulator answers only the synchronous Authenticator push that the portal relies on. Without
        // AuthenticationMethodId the real connector falls back to the user's default method (a code or a call may
        // return with no prompt at all); the emulator refuses such a request so that the omission cannot pass unseen.
        return string.IsNullOrEmpty(upn) || syncCall != "true" || method != "PhoneAppNotification" || !Guid.TryParse(contextId, out _) ? null : (upn, caller ?? "", contextId!);
    }

    private static string ResponseXml(string value, bool? authenticationResult, string contextId)
    {
        var text = new StringBuilder();
        using (var writer = XmlWriter.Create(text, new XmlWriterSettings { OmitXmlDeclaration = true }))
        {
            writer.WriteStartElement("BeginTwoWayAuthenticationResponse");
            writer.WriteStartElement("Result");
            writer.WriteElementString("Value", value);
            writer.WriteElementString("Message", "");
            writer.WriteEndElement();
            writer.WriteElementString("SessionId", Guid.NewGuid().ToString());
            writer.WriteElementString("ContextId", contextId);
            if (authenticationResult is { } result)
            {
                writer.WriteElementString("AuthenticationResult", result ? "true" : "false");
            }

            writer.WriteEndElement();
        }

        return text.ToString();
    }
}

/// <summary>The connector's tokens and the pushes waiting on a caller's phone.</summary>
internal sealed class EntraPushBoard(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Entry> _pushes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _tokens = new(StringComparer.Ordinal);

    public string IssueToken()
    {
        var token = "eyJ0eXAiOiJKV1QiLCJtZmEiOnRydWV9." + EmulatorState.RandomString(43);
        _tokens[token] = time.GetUtcNow() + GraphDirectory.TokenLifetime;
        return token;
    }

    public bool IsValidToken(string token) => _tokens.TryGetValue(token, out var expires) && time.GetUtcNow() < expires;

    public Entry Create(string upn, string callerName, DateTimeOffset now)
    {
        var entry = new Entry(new PendingEntraPush(EmulatorState.RandomString(20), upn, callerName, now));
        _pushes[entry.Info.Id] = entry;
        return entry;
    }

    public IReadOnlyList<PendingEntraPush> Pending(string upn) =>
        [.. _pushes.Values.Select(e => e.Info).Where(p => string.Equals(p.UserPrincipalName, upn, StringComparison.OrdinalIgnoreCase)).OrderBy(p => p.CreatedAt)];

    public bool Answer(string id, bool approve) => _pushes.TryRemove(id, out var entry) && entry.Answer.TrySetResult(approve);

    public void Remove(string id) => _pushes.TryRemove(id, out _);

    public string? UpnOf(string id) => _pushes.TryGetValue(id, out var entry) ? entry.Info.UserPrincipalName : null;

    internal sealed record Entry(PendingEntraPush Info)
    {
        public TaskCompletionSource<bool> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>The Entra user's Authenticator prompt for a connector push: Approve or Deny, and no number to match.</summary>
internal static class MfaConnectorPhone
{
    public static void Map(WebApplication app, EmulatorState state)
    {
        app.MapPost("/phone/entrapush/{id}/approve", (string id) => Answer(state, id, approve: true));
        app.MapPost("/phone/entrapush/{id}/deny", (string id) => Answer(state, id, approve: false));
    }

    public static string Pushes(EmulatorState state, EntraUser user)
    {
        var body = new StringBuilder("<h2>Microsoft Authenticator</h2>");
        var pushes = state.PendingEntraPushes(user.UserPrincipalName);
        if (pushes.Count == 0)
        {
            body.Append("<p class=\"muted\">No sign-in request waiting.</p>");
        }

        foreach (var push in pushes)
        {
            var action = "/phone/entrapush/" + Uri.EscapeDataString(push.Id);
            body.Append("<div class=\"card\" data-entra-push=\"").Append(Html.E(push.Id)).Append("\"><p>Approve sign-in? ")
                .Append(Html.E(push.CallerName)).Append("</p>");
            body.Append("<form method=\"post\" action=\"").Append(Html.E(action + "/approve")).Append("\"><button type=\"submit\">Approve</button></form>");
            body.Append("<form method=\"post\" action=\"").Append(Html.E(action + "/deny")).Append("\"><button class=\"secondary\" type=\"submit\">Deny</button></form></div>");
        }

        return body.ToString();
    }

    private static IResult Answer(EmulatorState state, string id, bool approve)
    {
        var upn = state.EntraPushes.UpnOf(id);
        state.AnswerEntraPush(id, approve);
        return Results.Redirect(upn is null ? "/phone" : "/phone/" + Uri.EscapeDataString(upn));
    }
}
