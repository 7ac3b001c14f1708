using Microsoft.Extensions.Options;

namespace TruthDb.Dataflow.Hosting;

/// <summary>
/// Validates <see cref="WalOptions"/> for the options system (<c>ValidateOnStart</c>) with the same
/// checks and messages as <see cref="Wal.OpenAsync"/> (<see cref="WalOptions.Validate"/>).
/// </summary>
internal sealed class WalOptionsValidator : IValidateOptions<WalOptions>
{
    public ValidateOptionsResult Validate(string? name, WalOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail(ex.Message);
        }
    }
}
