using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Portal.IdpEmulator;

/// <summary>
/// The client-credentials grant at a Microsoft identity platform token endpoint (v2.0 for Graph, v1 for the MFA
/// connector), with Entra's AADSTS errors. Each endpoint says which clients it knows, what the token is for, and what
/// it answers; the checks and their order are the same for both.
/// </summary>
internal static class EntraClientCredentials
{
    /// <summary>
    /// Checks the form and, when it passes, answers with <paramref name="answer"/> for the client. <paramref name="knows"/>
    /// says whether the endpoint knows a registered client (else AADSTS700016, as for an unregistered one);
    /// <paramref name="refuseTarget"/> gives the error and description for a form whose scope or resource the endpoint
    /// does not issue for, null when it does.
    /// </summary>
    public static IResult Issue(
        HttpContext http, EmulatorContext context, string tenant, Func<EmulatorClient, bool> knows,
        Func<IFormCollection, (string Error, string Description)?> refuseTarget, Func<EmulatorClient, JsonObject> answer)
    {
        if (!http.Request.HasFormContentType)
        {
            return Error(400, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'grant_type'.");
        }

        var form = http.Request.Form;
        if (form["grant_type"] != "client_credentials")
        {
            return Error(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.");
        }

        var clientId = form["client_id"].ToString();
        var secret = form["client_secret"].ToString();
        var client = context.Options.GraphClients.FirstOrDefault(c => string.Equals(c.ClientId, clientId, StringComparison.Ordinal));
        if (client is null || !knows(client))
        {
            return Error(400, "unauthorized_client", $"AADSTS700016: Application with identifier '{clientId}' was not found in the directory '{tenant}'.");
        }

        // Constant-time, so that the secret cannot be guessed byte by byte from response timing.
        if (secret.Length == 0 || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(client.ClientSecret)))
        {
            return Error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.");
        }

        if (refuseTarget(form) is { } refusal)
        {
            return Error(400, refusal.Error, refusal.Description);
        }

        return Results.Json(answer(client));
    }

    private static IResult Error(int status, string error, string description) => Results.Json(
        new JsonObject { ["error"] = error, ["error_description"] = description, ["error_codes"] = new JsonArray() },
        statusCode: status);
}
