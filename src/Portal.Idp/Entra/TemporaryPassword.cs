using System.Security.Cryptography;

namespace Portal.Idp.Entra;

/// <summary>Temporary passwords the agent reads out once, from a CSPRNG.</summary>
internal static class TemporaryPassword
{
    public const int Length = 16;

    // Characters that are easy to tell apart when read out over the phone (no 0/O, 1/l/I).
    internal const string Upper = "ABCDEFGHJKLMNPQRSTUVWXYZ";
    internal const string Lower = "abcdefghijkmnpqrstuvwxyz";
    internal const string Digits = "23456789";
    internal const string Symbols = "!#$%&*+-=?@";

    /// <summary>16 characters with at least one of each class, so that it meets any Entra complexity rule.</summary>
    public static string Generate()
    {
        const string All = Upper + Lower + Digits + Symbols;
        var chars = new char[Length];
        chars[0] = Upper[RandomNumberGenerator.GetInt32(Upper.Length)];
        chars[1] = Lower[RandomNumberGenerator.GetInt32(Lower.Length)];
        chars[2] = Digits[RandomNumberGenerator.GetInt32(Digits.Length)];
        chars[3] = Symbols[RandomNumberGenerator.GetInt32(Symbols.Length)];
        for (var i = 4; i < chars.Length; i++)
        {
            chars[i] = All[RandomNumberGenerator.GetInt32(All.Length)];
        }

        // The guaranteed classes must not sit at fixed positions, or the password is easier to guess.
        RandomNumberGenerator.Shuffle(chars.AsSpan());
        return new string(chars);
    }
}
