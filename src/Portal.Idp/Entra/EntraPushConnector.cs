using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Xml;
using Microsoft.Extensions.Logging;

namespace Portal.Idp.Entra;

/// <summary>
/// Where one tenant's Azure MFA connector is reached. <see cref="ClientSecret"/> is the secret added to the service
/// principal of the first-party app <see cref="EntraPushConnection.AppId"/>; it is never logged. The endpoints are null
/// for Microsoft's own and set only for the emulator or another cloud.
/// </summary>
public sealed record EntraPushConnection(string TenantId, string DirectoryTenantId, string ClientSecret, Uri? TokenEndpoint = null, Uri? ConnectorEndpoint = null)
{
    /// <summary>The "Azure Multi-Factor Auth Client" first-party app (the NPS extension's).</summary>
    public const string AppId = "981f26a1-7f43-403b-a875-f8b09b8cd720";

    public override string ToString() => $"EntraPushConnection {{ TenantId = {TenantId}, TokenEndpoint = {TokenEndpoint}, ConnectorEndpoint = {ConnectorEndpoint} }}";
}

/// <summary>
/// Microsoft Authenticator push through the Azure MFA connector. Unsupported by Microsoft and without number
/// matching: the portal offers it only when a tenant turns it on, and only for actions whose policy names it.
/// </summary>
public interface IEntraPushChallenge
{
    /// <summary>
    /// Sends one push and waits (synchronously, up to about a minute) for the caller's answer:
    /// <see cref="PushState.Approved"/>, <see cref="PushState.Rejected"/> (denied) or <see cref="PushState.TimedOut"/>.
    /// Never retried: a second attempt would be a second prompt on the caller's phone.
    /// </summary>
    Task<IdpResult<PushState>> PushAsync(EntraPushConnection connection, string userPrincipalName, string callerName, CancellationToken cancellationToken = default);
}

internal sealed partial class EntraPushConnector(IHttpClientFactory httpClientFactory, ILogger<EntraPushConnector> logger) : IEntraPushChallenge
{
    public const string HttpClientName = "portal-idp-entra-push";
    public const string Resource = "https://adnotifications.windowsazure.com/StrongAuthenticationService.svc/Connector";
    private const string DefaultConnector = "https://strongauthenticationservice.auth.microsoft.com/StrongAuthenticationService.svc/Connector//BeginTwoWayAuthentication";
    private const int MaxResponseBytes = 64 * 1024;

    private static readonly IdpError Unreachable = new(IdpErrorKind.Unavailable, "entra_push_unreachable", "The Microsoft Authenticator push service did not answer. Use a step-up sign-in instead.");

    public async Task<IdpResult<PushState>> PushAsync(EntraPushConnection connection, string userPrincipalName, string callerName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrWhiteSpace(userPrincipalName);
        if (string.IsNullOrWhiteSpace(connection.ClientSecret) || connection.ClientSecret.Any(char.IsControl))
        {
            throw new ArgumentException($"The MFA connector client secret of tenant {connection.TenantId} is empty or malformed.", nameof(connection));
        }

        var tokenEndpoint = EntraCallerDirectoryFactory.ValidateUrl(
            connection.TokenEndpoint ?? new Uri("https://login.microsoftonline.com/" + Uri.EscapeDataString(connection.DirectoryTenantId) + "/oauth2/token"),
            "The MFA connector token endpoint setting",
            asDirectory: false);
        var connector = ValidateConnector(connection.ConnectorEndpoint ?? new Uri(DefaultConnector));

        using var http = httpClientFactory.CreateClient(HttpClientName);
        http.MaxResponseContentBufferSize = MaxResponseBytes;
        try
        {
            var token = await GetTokenAsync(http, tokenEndpoint, connection.ClientSecret.Trim(), cancellationToken);
            if (!token.IsSuccess)
            {
                return token.Error;
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, connector)
            {
                Content = new StringContent(RequestXml(userPrincipalName, callerName, Guid.NewGuid()), Encoding.UTF8, "application/xml"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Value);
            using var response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                Log.ConnectorFailed(logger, connection.TenantId, (int)response.StatusCode);
                return response.StatusCode switch
                {
                    HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new IdpError(IdpErrorKind.Unauthorized, "entra_push_unauthorized", "The portal's MFA connector credentials were refused. Tell your administrator."),
                    >= HttpStatusCode.InternalServerError => Unreachable,
                    _ => new IdpError(IdpErrorKind.Invalid, "entra_push_failed", "Microsoft Authenticator push could not verify this caller. Use a step-up sign-in instead."),
                };
            }

            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var (value, authenticated) = ParseResponse(body);
            // Only the known answers are logged: the rest of the body is the connector's, not ours to copy into logs.
            Log.ConnectorAnswered(logger, connection.TenantId, value is "Success" or "PhoneAppDenied" or "PhoneAppNoResponse" ? value : "other");
            return value switch
            {
                "Success" when authenticated == true => IdpResult<PushState>.Success(PushState.Approved),
                "PhoneAppDenied" => IdpResult<PushState>.Success(PushState.Rejected),
                "PhoneAppNoResponse" => IdpResult<PushState>.Success(PushState.TimedOut),

                // "Success" without a true AuthenticationResult, or any other answer, verifies nobody (fail closed).
                _ => new IdpError(IdpErrorKind.Invalid, "entra_push_failed", "Microsoft Authenticator push could not verify this caller. Use a step-up sign-in instead."),
            };
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return Unreachable;
        }
    }

    /// <summary>The connector address: Microsoft's, or a loopback emulator's. Validated like every Entra URL (https only, else loopback).</summary>
    private static Uri ValidateConnector(Uri url)
    {
        var checkedUrl = EntraCallerDirectoryFactory.ValidateUrl(url, "The MFA connector endpoint setting", asDirectory: false);

        // ValidateUrl keeps the path as given; the double slash of Microsoft's address must survive it.
        return url.AbsolutePath.Contains("//", StringComparison.Ordinal) ? url : checkedUrl;
    }

    private static async Task<IdpResult<string>> GetTokenAsync(HttpClient http, Uri tokenEndpoint, string secret, CancellationToken ct)
    {
        using var form = new FormUrlEncodedContent(
        [
            new("grant_type", "client_credentials"),
            new("client_id", EntraPushConnection.AppId),
            new("client_secret", secret),
            new("resource", Resource),
        ]);
        using var response = await http.PostAsync(tokenEndpoint, form, ct);
        if (!response.IsSuccessStatusCode)
        {
            return (int)response.StatusCode >= 500
                ? Unreachable
                : new IdpError(IdpErrorKind.Unauthorized, "entra_push_token_refused", "The portal could not get a token for the MFA connector. Tell your administrator.");
        }

        try
        {
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            return json.RootElement.TryGetProperty("access_token", out var token) && token.ValueKind == JsonValueKind.String && token.GetString() is { Length: > 0 } value
                ? IdpResult<string>.Success(value)
                : new IdpError(IdpErrorKind.Unauthorized, "entra_push_token_refused", "The portal could not get a token for the MFA connector. Tell your administrator.");
        }
        catch (JsonException)
        {
            return new IdpError(IdpErrorKind.Unavailable, "entra_push_token_unreadable", "The token service answered something unreadable. Try again later.");
        }
    }

    /// <summary>Built with an XmlWriter so that a crafted login cannot add or close elements of the request.</summary>
    internal static string RequestXml(string userPrincipalName, string callerName, Guid contextId)
    {
        var text = new StringBuilder();
        using (var writer = XmlWriter.Create(text, new XmlWriterSettings { OmitXmlDeclaration = true, CheckCharacters = true }))
        {
            writer.WriteStartElement("BeginTwoWayAuthenticationRequest");
            writer.WriteElementString("Version", "1.0");
            writer.WriteElementString("UserPrincipalName", userPrincipalName);
            writer.WriteElementString("Lcid", "en-us");
            // Without it the connector uses the user's default method, which may be a code or a call that returns
            // without any prompt on the phone; the portal asks for the Authenticator push and nothing else.
            writer.WriteElementString("AuthenticationMethodId", "PhoneAppNotification");
            writer.WriteElementString("ContextId", contextId.ToString());
            writer.WriteElementString("SyncCall", "true");
            writer.WriteElementString("RequireUserMatch", "true");
            writer.WriteElementString("CallerName", callerName);
            writer.WriteElementString("CallerIP", "UNKNOWN:");
            writer.WriteEndElement();
        }

        return text.ToString();
    }

    /// <summary><c>Result/Value</c> and <c>AuthenticationResult</c>; DTDs are refused so that an answer cannot expand entities or reach files.</summary>
    internal static (string? Value, bool? Authenticated) ParseResponse(string xml)
    {
        string? value = null;
        bool? authenticated = null;
        try
        {
            using var reader = XmlReader.Create(new StringReader(xml), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersInDocument = MaxResponseBytes });
            // ReadElementContentAsString already moves to the next node, so the loop reads on only when nothing was consumed.
            var more = reader.Read();
            while (more)
            {
                if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "Value" && reader.Depth == 2 && value is null)
                {
                    value = reader.ReadElementContentAsString();
                    more = !reader.EOF;
                }
                else if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "AuthenticationResult" && reader.Depth == 1)
                {
                    authenticated = string.Equals(reader.ReadElementContentAsString().Trim(), "true", StringComparison.OrdinalIgnoreCase);
                    more = !reader.EOF;
                }
                else
                {
                    more = reader.Read();
                }
            }
        }
        catch (XmlException)
        {
            return (null, null);
        }

        return (value?.Trim(), authenticated);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "MFA connector of tenant {TenantId} answered HTTP {Status}")]
        public static partial void ConnectorFailed(ILogger logger, string tenantId, int status);

        [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "MFA connector of tenant {TenantId} answered {Value}")]
        public static partial void ConnectorAnswered(ILogger logger, string tenantId, string value);
    }
}
