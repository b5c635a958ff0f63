using System.Security.Cryptography;

namespace Portal.Web.Platform;

/// <summary>
/// The portal's random record ids (agent sessions, pending verifications, verification sessions, alarms, alert signing
/// key ids): 128 random bits as 32 lowercase hex characters. An id that arrives in a URL or a form is checked against
/// this shape before any store read. Bearer secrets are not ids: a step-up link's token stays 256 bits (StepUpStore).
/// </summary>
public static class PortalIds
{
    public static string New() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public static bool IsWellFormed(string? id) => id is { Length: 32 } && id.All(char.IsAsciiHexDigitLower);
}
