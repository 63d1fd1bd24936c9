# windows_patching collector: update history, hotfixes, pending-reboot keys, the Windows Update agent's last
# successful search and its cached (offline) search results as one JSON object for
# runner/evaluators/windows_patching.py (schema 1), with search_decision: whether an online win_updates search
# is needed (the role runs it only then, in the same maint_audit task) and why. The role adds the win_updates
# results to it. Windows PowerShell 5.1 compatible (Server 2016-2025, Windows 10/11). Reads only; changes
# nothing (the offline search reads the agent's local datastore and does not contact the update source).
[CmdletBinding()]
param(
    [int]$HistoryMax = 50,
    [int]$HotFixMax = 10,
    [string[]]$Categories = @('SecurityUpdates', 'CriticalUpdates', 'UpdateRollups', 'DefinitionUpdates'),
    [int]$SearchMaxAgeHours = 24,
    [switch]$SearchAlways
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2

function ConvertTo-IsoUtc($Value) {
    # ISO 8601 in UTC ('o': 2024-11-26T08:30:15.1234567Z) whatever the shell: left as a DateTime,
    # ConvertTo-Json writes \/Date(ms)\/ on Windows PowerShell 5.1 and ISO 8601 only on PowerShell 7
    if ($null -eq $Value) { return $null }
    return ([DateTime]$Value).ToUniversalTime().ToString('o')
}

function ConvertTo-EnumName([hashtable]$Names, $Value) {
    # a COM enum reaches PowerShell as its number on every shell: write its name, or the number if unknown
    $number = [int]$Value
    if ($Names.ContainsKey($number)) { return $Names[$number] }
    return [string]$number
}

# WUApiLib UpdateOperation and OperationResultCode, named as runner/evaluators/windows_patching.py names them
$operationNames = @{ 1 = 'Installation'; 2 = 'Uninstallation' }
$resultNames = @{ 0 = 'NotStarted'; 1 = 'InProgress'; 2 = 'Succeeded'; 3 = 'SucceededWithErrors'; 4 = 'Failed'; 5 = 'Aborted' }

$result = [ordered]@{
    schema       = 1
    collector    = 'windows_patching'
    hostname     = $env:COMPUTERNAME
    ps_version   = $PSVersionTable.PSVersion.ToString()
    collected_at = ConvertTo-IsoUtc ([DateTime]::UtcNow)
}

try {
    $searcher = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher()
    $total = $searcher.GetTotalHistoryCount()
    $entries = @()
    if ($total -gt 0) {
        # IUpdateHistoryEntry: Date is UTC; Operation 1 install / 2 uninstall; ResultCode 2 succeeded, 4 failed
        $entries = @($searcher.QueryHistory(0, [Math]::Min($total, $HistoryMax)) | ForEach-Object {
                [pscustomobject]@{
                    Date       = ConvertTo-IsoUtc ([DateTime]::SpecifyKind($_.Date, [DateTimeKind]::Utc))
                    Title      = $_.Title
                    Operation  = ConvertTo-EnumName $operationNames $_.Operation
                    ResultCode = ConvertTo-EnumName $resultNames $_.ResultCode
                    HResult    = [int64]$_.HResult
                }
            })
    }
    $result.history = [ordered]@{ available = $true; total = $total; entries = $entries }
} catch {
    $result.history = [ordered]@{ available = $false; reason = "Windows Update history (Microsoft.Update.Session) failed: $($_.Exception.Message)" }
}

try {
    $fixes = @(Get-HotFix | Where-Object { $_.InstalledOn } | Sort-Object InstalledOn -Descending |
            Select-Object -First $HotFixMax | ForEach-Object {
                [pscustomobject]@{
                    HotFixID    = $_.HotFixID
                    Description = $_.Description
                    InstalledOn = ConvertTo-IsoUtc $_.InstalledOn
                }
            })
    $result.hotfixes = [ordered]@{ available = $true; items = $fixes }
} catch {
    $result.hotfixes = [ordered]@{ available = $false; reason = "Get-HotFix failed: $($_.Exception.Message)" }
}

try {
    $rename = (Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' `
            -Name PendingFileRenameOperations -ErrorAction SilentlyContinue).PendingFileRenameOperations
    $renameCount = @($rename | Where-Object { $_ }).Count
    $result.reboot = [ordered]@{
        available                 = $true
        cbs_reboot_pending        = Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
        wu_reboot_required        = Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
        pending_file_rename       = $renameCount -gt 0
        pending_file_rename_count = $renameCount
    }
} catch {
    $result.reboot = [ordered]@{ available = $false; reason = "reading the pending-reboot registry keys failed: $($_.Exception.Message)" }
}

# IAutomaticUpdatesResults: when Automatic Updates last searched / installed successfully, in UTC; VT_EMPTY
# ($null) when not known. Only the agent's own searches move it (a win_updates search does not).
try {
    $au = (New-Object -ComObject Microsoft.Update.AutoUpdate).Results
    $lastSearch = $null
    $lastInstall = $null
    if ($au.LastSearchSuccessDate) { $lastSearch = [DateTime]::SpecifyKind([DateTime]$au.LastSearchSuccessDate, [DateTimeKind]::Utc) }
    if ($au.LastInstallationSuccessDate) { $lastInstall = [DateTime]::SpecifyKind([DateTime]$au.LastInstallationSuccessDate, [DateTimeKind]::Utc) }
    $result.wu_agent = [ordered]@{
        available                 = $true
        last_search_success       = ConvertTo-IsoUtc $lastSearch
        last_installation_success = ConvertTo-IsoUtc $lastInstall
    }
} catch {
    $lastSearch = $null
    $result.wu_agent = [ordered]@{ available = $false; reason = "Automatic Updates results (Microsoft.Update.AutoUpdate) failed: $($_.Exception.Message)" }
}

# The agent's cached view: an offline search (IUpdateSearcher.Online = false) lists the updates the last online
# scan found applicable and not installed, without contacting WSUS or Microsoft Update. Same shape as
# win_updates' updates (kb without the KB prefix, category names).
$wanted = @($Categories | ForEach-Object { ($_ -replace '\s', '').ToLowerInvariant() })
try {
    $offline = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher()
    $offline.Online = $false
    $found = $offline.Search('IsInstalled=0 and IsHidden=0')
    $cached = @($found.Updates | ForEach-Object {
            [pscustomobject]@{
                id         = $_.Identity.UpdateID
                title      = $_.Title
                kb         = @($_.KBArticleIDs | ForEach-Object { [string]$_ })
                categories = @($_.Categories | ForEach-Object { $_.Name })
            }
        })
    $result.cached_search = [ordered]@{ available = $true; online = $false; updates = $cached }
} catch {
    $cached = $null
    $result.cached_search = [ordered]@{ available = $false; reason = "offline Windows Update search failed: $($_.Exception.Message)" }
}

# Is an online search needed? Yes when the cache is unknown or old, or when it says updates may be pending.
$reasons = @()
if ($SearchAlways) { $reasons += 'remediate mode: the state after the installation is searched' }
$ageHours = $null
if ($null -eq $lastSearch) {
    $reasons += 'the last successful Windows Update search is not known'
} else {
    $ageHours = [Math]::Round(([DateTime]::UtcNow - $lastSearch).TotalHours, 1)
    if ($ageHours -gt $SearchMaxAgeHours) { $reasons += "the last successful search is $ageHours h old (more than $SearchMaxAgeHours h)" }
}
if ($null -eq $cached) {
    $reasons += 'the cached search results could not be read'
} else {
    $pending = @($cached | Where-Object {
            $names = @($_.categories | ForEach-Object { ($_ -replace '\s', '').ToLowerInvariant() })
            @($names | Where-Object { $wanted -contains $_ }).Count -gt 0
        })
    if ($pending.Count -gt 0) { $reasons += "the cached search lists $($pending.Count) pending update(s) in the audited categories" }
}
if ($result.reboot.available) {
    if ($result.reboot.wu_reboot_required) { $reasons += 'Windows Update RebootRequired is set (installed updates wait for a reboot)' }
    if ($result.reboot.cbs_reboot_pending) { $reasons += 'Component Based Servicing RebootPending is set' }
} else {
    $reasons += 'the pending-reboot keys could not be read'
}
$result.search_decision = [ordered]@{
    needed        = $reasons.Count -gt 0
    reasons       = $reasons
    age_hours     = $ageHours
    max_age_hours = $SearchMaxAgeHours
}

$result | ConvertTo-Json -Depth 5 -Compress
